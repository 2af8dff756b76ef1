/**
 * Which URLs a webhook may point at. The server POSTs to them from inside our network, so an
 * endpoint must not be a way to reach our own services (metadata endpoints, the database,
 * loopback admin ports): literal addresses outside public unicast are refused, and so are
 * names that always mean this machine (`localhost`, `*.localhost`).
 *
 * A public name whose DNS answer is private (DNS rebinding) is not caught here, by the URL alone:
 * on Node, src/node/webhook-fetch.ts checks every address DNS answers at connect time, with
 * `addressAllowed`, and connects to the address it checked. Workers cannot resolve names before
 * fetch; there the platform's egress does not reach our private network (docs/webhooks.md §5).
 */
import ipaddr from "ipaddr.js";

export interface UrlPolicy {
	/** Production: `https:` only. Dev and test may use `http:`. */
	httpsOnly: boolean;
	/** Dev and test only: let loopback (127.0.0.0/8, ::1, localhost) through, for a local receiver. */
	allowLoopback: boolean;
}

export const PRODUCTION_POLICY: UrlPolicy = { httpsOnly: true, allowLoopback: false };

export type UrlCheck =
	| { ok: true; url: string }
	| {
			ok: false;
			reason: "invalid_url" | "scheme_not_allowed" | "credentials_in_url" | "address_not_allowed";
	  };

/** Checks `raw` against `policy`; on success returns the URL in its normalized form. */
export function checkWebhookUrl(raw: string, policy: UrlPolicy = PRODUCTION_POLICY): UrlCheck {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		return { ok: false, reason: "invalid_url" };
	}
	if (url.protocol !== "https:" && !(url.protocol === "http:" && !policy.httpsOnly)) {
		return { ok: false, reason: "scheme_not_allowed" };
	}
	// userinfo would go out as Basic auth to whoever the host is; the secret is what authenticates.
	if (url.username || url.password) return { ok: false, reason: "credentials_in_url" };
	const host = url.hostname.toLowerCase().replace(/\.$/, "");
	if (host === "") return { ok: false, reason: "invalid_url" };
	if (host === "localhost" || host.endsWith(".localhost")) {
		return policy.allowLoopback
			? { ok: true, url: url.href }
			: { ok: false, reason: "address_not_allowed" };
	}
	// The URL parser has already turned 2130706433, 0x7f.1 and friends into dotted quads.
	const literal = host.startsWith("[") ? host.slice(1, -1) : host;
	if (!ipaddr.isValid(literal)) return { ok: true, url: url.href };
	return addressAllowed(literal, policy)
		? { ok: true, url: url.href }
		: { ok: false, reason: "address_not_allowed" };
}

/**
 * Whether an IP address (v4 or v6 text) may be connected to: public unicast, or loopback when
 * the policy allows it. IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 it maps.
 * Anything that does not parse as an address is refused. Also used at connect time on Node,
 * on what DNS answered (src/node/webhook-fetch.ts).
 */
export function addressAllowed(literal: string, policy: UrlPolicy): boolean {
	if (!ipaddr.isValid(literal)) return false;
	let address = ipaddr.parse(literal);
	if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
		address = (address as ipaddr.IPv6).toIPv4Address();
	}
	const range = address.range();
	return range === "unicast" || (range === "loopback" && policy.allowLoopback);
}
