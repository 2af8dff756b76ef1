import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { requestIdOf } from "../errors";
import { newId } from "../ids";
import type { AppEnv } from "../services";

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
 * The outermost layer, with three jobs in one (each layer costs a few promises a request):
 * issues the request id (`req_…`, X-Request-Id on every answer), puts docs/api.md §3.6
 * headers on every response, errors and 404/405 included, and writes the request's log line
 * (`logLine`, src/middleware/request-log.ts) once all is done. Hono's secureHeaders()
 * defaults differ (SAMEORIGIN, 180-day HSTS, no CSP), so the exact values are set here.
 * Pages that need more than `default-src 'none'` (docs, billing pages) set their own CSP,
 * which is kept; a handler's own Cache-Control is kept too, except on no-store paths.
 *
 * They go on after the handler. The hot path answers with `jsonAnswer`, which builds its
 * Response with every one of them (and the request id) in a plain header record, and is
 * left untouched here: any Headers object on a validate (Hono's c.header before the handler,
 * or an edit afterwards) costs ~10 µs of its CPU on Node, where @hono/node-server writes a
 * plain record straight to the socket (bench/README.md).
 */
export function securityHeaders(
	logLine?: (c: Context<AppEnv>, started: number) => void,
): MiddlewareHandler<AppEnv> {
	// Not async: `.then` on the next layer's promise is one promise a request fewer than an
	// async function awaiting it (Hono's compose never throws synchronously from next()).
	return (c, next) => {
		const started = performance.now();
		// The request id first: every later layer (log, errors, audit) reads it.
		const id = newId("req");
		c.set("requestId", id);
		return next().then(() => {
			if (!isCompleteAnswer(c.res)) applyHeaders(c, id);
			// Last: the line's status is the final one and its duration covers everything.
			logLine?.(c, started);
		});
	};
}

function applyHeaders(c: Context<AppEnv>, id: string): void {
	const h = c.res.headers;
	if (h.get("X-Request-Id") !== id) h.set("X-Request-Id", id);
	if (h.get("X-Frame-Options") !== "DENY") {
		for (const [k, v] of FIXED) h.set(k, v);
	}
	if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", DEFAULT_CSP);
	if (
		!h.has("Cache-Control") ||
		(NO_STORE_PATH.test(c.req.path) && h.get("Cache-Control") !== "no-store")
	) {
		h.set("Cache-Control", "no-store");
	}
	if (h.has("X-Powered-By")) h.delete("X-Powered-By");
}

/** What a `jsonAnswer` carries besides its request id: the same values as above. */
const ANSWER_HEADERS: Readonly<Record<string, string>> = Object.fromEntries([
	["Content-Type", "application/json"],
	...FIXED,
	["Content-Security-Policy", DEFAULT_CSP],
	["Cache-Control", "no-store"],
]);

/**
 * Marks responses built by `jsonAnswer`: they carry every edge header already. A property of
 * the response, not a WeakSet: adding to a WeakSet cost ~1 µs an answer on Node (and every
 * entry is an ephemeron the garbage collector must process), the property next to nothing.
 */
const COMPLETE = Symbol("complete answer");
type Marked = Response & { [COMPLETE]?: true };

export function isCompleteAnswer(res: Response): boolean {
	return (res as Marked)[COMPLETE] === true;
}

/**
 * A JSON answer with this middleware's headers, the request id and a no-store Cache-Control
 * already on it, as one plain record (see securityHeaders). Only for API answers: no page,
 * no handler-specific headers.
 */
export function jsonAnswer(c: Context, body: unknown, status: ContentfulStatusCode): Response {
	const res = new Response(JSON.stringify(body), {
		status,
		headers: { ...ANSWER_HEADERS, "x-request-id": requestIdOf(c) },
	});
	(res as Marked)[COMPLETE] = true;
	return res;
}
