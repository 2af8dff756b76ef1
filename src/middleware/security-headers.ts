import type { MiddlewareHandler } from "hono";

const FIXED: ReadonlyArray<readonly [string, string]> = [
	["X-Content-Type-Options", "nosniff"],
	["X-Frame-Options", "DENY"],
	["Strict-Transport-Security", "max-age=31536000; includeSubDomains"],
	["Referrer-Policy", "no-referrer"],
];
const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";
// Auth and license answers carry tokens and live state: never cache them anywhere.
const NO_STORE_PATH = /^\/(api\/v1\/|auth\/|licenses\/)/;

/**
 * docs/api.md §3.6 headers on every response, errors and 404/405 included. Hono's secureHeaders()
 * defaults differ (SAMEORIGIN, 180-day HSTS, no CSP), so the exact values are set here.
 * Pages that need more than `default-src 'none'` (docs, billing pages) set their own CSP,
 * which replaces the default.
 *
 * The headers go in before the handler (c.header), so a response built by c.json/c.body carries
 * them from the start: editing the Response afterwards makes @hono/node-server turn its cheap
 * header record into a Headers object and copy it, a measurable share of a validate's CPU.
 * Afterwards only checks remain: a Response built elsewhere (`new Response`) or a handler's
 * Cache-Control on a no-store path still gets fixed up as before.
 */
export function securityHeaders(): MiddlewareHandler {
	return async (c, next) => {
		for (const [k, v] of FIXED) c.header(k, v);
		c.header("Content-Security-Policy", DEFAULT_CSP);
		c.header("Cache-Control", "no-store");
		await next();
		const h = c.res.headers;
		if (h.get("X-Frame-Options") !== "DENY") {
			// Not built from c: nothing of the above is on it.
			for (const [k, v] of FIXED) h.set(k, v);
			if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", DEFAULT_CSP);
			if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
		}
		if (NO_STORE_PATH.test(c.req.path) && h.get("Cache-Control") !== "no-store") {
			h.set("Cache-Control", "no-store");
		}
		if (h.has("X-Powered-By")) h.delete("X-Powered-By");
	};
}
