/**
 * Which URLs a webhook may point at. The server POSTs to them from inside our network, so an
 * endpoint must not be a way to reach our own services (metadata endpoints, the database,
 * loopback admin ports): literal addresses outside public unicast are refused, and so are
 * names that always mean this machine (`localhost`, `*.localhost`).
 *
 * Not covered here: a public name whose DNS answer is private (DNS rebinding). Workers cannot
 * resolve names before fetch; there the platform's egress does not reach our private network.
 * The Node entry should run behind an egress that blocks private ranges too (docs/webhooks.md).
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
	let address = ipaddr.parse(literal);
	if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
		address = (address as ipaddr.IPv6).toIPv4Address();
	}
	const range = address.range();
	if (range === "unicast") return { ok: true, url: url.href };
	if (range === "loopback" && policy.allowLoopback) return { ok: true, url: url.href };
	return { ok: false, reason: "address_not_allowed" };
}
