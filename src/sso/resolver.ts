/**
 * DNS TXT lookups for domain verification, behind one interface: DNS-over-HTTPS (JSON API)
 * on Workers, which have no resolver of their own; node:dns on Node (src/node/). Tests point
 * the DoH URL at a local fake (the setting, like GOOGLE_ISSUER), never the internet.
 */
export interface TxtResolver {
	/** Every TXT record of `name`, each one's strings joined; [] when there is none. */
	resolveTxt(name: string): Promise<string[]>;
}

export const DEFAULT_DOH_URL = "https://cloudflare-dns.com/dns-query";
const TIMEOUT_MS = 5_000;
/** RFC 1035 type 16. */
const TXT = 16;

/** The DoH JSON API (`application/dns-json`) that Cloudflare and Google both answer. */
export function dohResolver(endpoint: string): TxtResolver {
	return {
		async resolveTxt(name) {
			const url = new URL(endpoint);
			url.searchParams.set("name", name);
			url.searchParams.set("type", "TXT");
			const res = await fetch(url, {
				headers: { accept: "application/dns-json" },
				redirect: "manual",
				signal: AbortSignal.timeout(TIMEOUT_MS),
			});
			if (!res.ok) throw new Error(`DNS-over-HTTPS answered ${res.status}`);
			const body = (await res.json()) as { Status?: unknown; Answer?: unknown };
			// NXDOMAIN (3) is an answer: no records.
			if (body.Status === 3) return [];
			if (body.Status !== 0) throw new Error(`DNS-over-HTTPS status ${String(body.Status)}`);
			if (!Array.isArray(body.Answer)) return [];
			return body.Answer.filter(
				(a): a is { type: number; data: string } =>
					typeof a === "object" && a !== null && a.type === TXT && typeof a.data === "string",
			).map((a) => unquoteTxt(a.data));
		},
	};
}

/** DoH gives TXT data in presentation form: `"part one" "part two"` → `part onepart two`. */
export function unquoteTxt(data: string): string {
	const parts = [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
		(m[1] ?? "").replace(/\\(.)/g, "$1"),
	);
	return parts.length > 0 ? parts.join("") : data;
}
