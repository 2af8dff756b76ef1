/**
 * The client address on Node. By default the socket's, never a header. A self-hosted server
 * behind its own TLS proxy (nginx, Caddy, a load balancer) sees only the proxy, so every
 * client would share one rate-limit bucket; TRUSTED_PROXIES names those proxies (addresses or
 * CIDR ranges), and for a request whose socket peer is one of them the client is the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy: the one the outermost
 * trusted proxy appended. Entries left of it are whatever the client sent and are never used
 * (Express's and Fastify's "trust proxy" rule). On Workers the address is CF-Connecting-IP.
 */
import ipaddr from "ipaddr.js";

export type ProxyTrust = (address: string) => boolean;

/** Parses `TRUSTED_PROXIES` (comma-separated addresses and CIDR ranges); throws on a bad entry. */
export function trustedProxies(spec: string | undefined): ProxyTrust | null {
	const entries = (spec ?? "")
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean);
	if (entries.length === 0) return null;
	const ranges = entries.map((entry) => {
		const cidr = entry.includes("/") ? entry : `${entry}/${entry.includes(":") ? 128 : 32}`;
		if (!ipaddr.isValidCIDR(cidr)) throw new Error(`not an address or CIDR range: ${entry}`);
		const [range, bits] = ipaddr.parseCIDR(cidr);
		return { range: canonical(range), bits };
	});
	return (address) => {
		if (!ipaddr.isValid(address)) return false;
		const ip = canonical(ipaddr.parse(address));
		return ranges.some(({ range, bits }) => ip.kind() === range.kind() && ip.match(range, bits));
	};
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as dual-stack sockets report IPv4) as plain IPv4. */
function canonical(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
	return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()
		? (ip as ipaddr.IPv6).toIPv4Address()
		: ip;
}

export function clientAddress(
	socket: string | null,
	forwardedFor: string | undefined,
	trusted: ProxyTrust | null,
): string | null {
	if (!trusted || socket === null || !trusted(socket) || !forwardedFor) return socket;
	const hops = forwardedFor.split(",").map((h) => h.trim());
	for (let i = hops.length - 1; i >= 0; i--) {
		const hop = hops[i] ?? "";
		// A malformed entry where a trusted proxy's should be: keep the proxy's own address.
		if (!ipaddr.isValid(hop)) return socket;
		if (!trusted(hop)) return hop;
	}
	return hops[0] ?? socket;
}
