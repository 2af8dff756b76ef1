import { describe, expect, it } from "vitest";
import { addressBucket } from "../../src/ratelimit/limiter";

describe("the per-address rate-limit bucket", () => {
	it("is the address itself for IPv4, also when a dual-stack socket reports it as IPv6", () => {
		expect(addressBucket("203.0.113.7")).toBe("203.0.113.7");
		expect(addressBucket("::ffff:203.0.113.7")).toBe("203.0.113.7");
	});

	it("is the /64 for IPv6, however the address is written", () => {
		const bucket = "2001:db8:aa:1::/64";
		expect(addressBucket("2001:db8:aa:1::1")).toBe(bucket);
		expect(addressBucket("2001:0DB8:00AA:0001:ffff:ffff:ffff:ffff")).toBe(bucket);
		expect(addressBucket("2001:db8:aa:1:0:0:0:2")).toBe(bucket);
		expect(addressBucket("2001:db8:aa:2::1")).not.toBe(bucket);
	});

	it("keeps anything unparseable as it came", () => {
		expect(addressBucket("unix-socket")).toBe("unix-socket");
	});
});
