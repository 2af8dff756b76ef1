import type { MiddlewareHandler } from "hono";

/**
 * docs/api.md §3.6 headers on every response, errors and 404/405 included. Hono's secureHeaders()
 * defaults differ (SAMEORIGIN, 180-day HSTS, no CSP), so the exact values are set here.
 * Pages that need more than `default-src 'none'` (docs, billing pages) set their own CSP
 * before this runs after them.
 */
export function securityHeaders(): MiddlewareHandler {
	return async (c, next) => {
		await next();
		const h = c.res.headers;
		h.set("X-Content-Type-Options", "nosniff");
		h.set("X-Frame-Options", "DENY");
		h.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
		if (!h.has("Content-Security-Policy")) {
			h.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
		}
		h.set("Referrer-Policy", "no-referrer");
		h.delete("X-Powered-By");
		// Auth and license answers carry tokens and live state: never cache them anywhere.
		const path = c.req.path;
		if (!h.has("Cache-Control") || /^\/(api\/v1\/|auth\/|licenses\/)/.test(path)) {
			h.set("Cache-Control", "no-store");
		}
	};
}
