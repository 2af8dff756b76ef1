/**
 * Which OpenID issuers we will fetch (discovery, JWKS): https only, plain http on loopback
 * (a local provider in development and tests). One rule for CI trust rules and org SSO.
 */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function isAcceptableIssuer(issuer: string): boolean {
	let url: URL;
	try {
		url = new URL(issuer);
	} catch {
		return false;
	}
	if (url.search || url.hash || url.username || url.password) return false;
	return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}
