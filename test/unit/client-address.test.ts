import { describe, expect, it } from "vitest";
import { clientAddress, trustedProxies } from "../../src/node/client-address";

describe("the client address on Node", () => {
	const proxies = trustedProxies("10.0.0.0/8, 127.0.0.1, fd00::/8");

	it("is the socket address when no proxy is trusted, whatever X-Forwarded-For says", () => {
		expect(trustedProxies(undefined)).toBeNull();
		expect(trustedProxies(" , ")).toBeNull();
		expect(clientAddress("203.0.113.7", "198.51.100.1", null)).toBe("203.0.113.7");
	});

	it("is the socket address when the peer is not a trusted proxy", () => {
		expect(clientAddress("203.0.113.7", "198.51.100.1", proxies)).toBe("203.0.113.7");
	});

	it("behind trusted proxies is the right-most entry that is not one of them", () => {
		expect(clientAddress("10.1.2.3", "198.51.100.1", proxies)).toBe("198.51.100.1");
		// The client sent its own X-Forwarded-For; the proxy appended the real address.
		expect(clientAddress("10.1.2.3", "6.6.6.6, 198.51.100.1", proxies)).toBe("198.51.100.1");
		// Two trusted hops (a load balancer, then nginx).
		expect(clientAddress("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.9.9.9", proxies)).toBe(
			"198.51.100.1",
		);
		expect(clientAddress("::ffff:10.1.2.3", "2001:db8::1", proxies)).toBe("2001:db8::1");
		expect(clientAddress("fd12::1", "198.51.100.1", proxies)).toBe("198.51.100.1");
	});

	it("keeps the proxy's address when the header is missing or malformed", () => {
		expect(clientAddress("10.1.2.3", undefined, proxies)).toBe("10.1.2.3");
		expect(clientAddress("10.1.2.3", "198.51.100.1, not-an-ip", proxies)).toBe("10.1.2.3");
	});

	it("refuses a setting that is not an address or range", () => {
		expect(() => trustedProxies("10.0.0.0/8, nginx")).toThrow(/nginx/);
		expect(() => trustedProxies("10.0.0.0/33")).toThrow();
	});
});
