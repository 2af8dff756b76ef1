/**
 * One line per request: method, route pattern, status, duration, request id. Never the URL
 * as sent (its query may carry a secret), bodies, headers, keys or tokens: the route pattern
 * (`/api/v1/licenses/:id/keys`) says what was called without saying with what.
 *
 * It runs on validate, the hot path, so it builds exactly one string and nothing else: no
 * object to serialise, no Date. Every value is safe to put between quotes as it is: patterns
 * come from our route table, methods are HTTP tokens (no quotes or backslashes), ids are ours.
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { requestIdOf } from "../errors";

export interface RequestLogSink {
	/** JSON for log collectors (stdout not a terminal, Workers Logs); else a short human line. */
	json: boolean;
	write(line: string): void;
}

/**
 * The log line's writer, called by the outermost layer (securityHeaders) once the answer is
 * final, with the time that layer started. `sink(c)` null = no line for this request
 * (LOG_REQUESTS=false). Typed on a plain Context (no AppEnv), so the services module can
 * import this one without a loop back.
 */
export function requestLine<C extends Context>(
	sink: (c: C) => RequestLogSink | null,
): (c: C, started: number) => void {
	return (c, started) => {
		const out = sink(c);
		if (!out) return;
		const ms = Math.round((performance.now() - started) * 10) / 10;
		const route = routeOf(c);
		const id = requestIdOf(c);
		out.write(
			out.json
				? `{"time":${Date.now()},"msg":"request","method":"${c.req.method}","route":"${route}","status":${c.res.status},"ms":${ms},"request_id":"${id}"}`
				: `${c.req.method} ${route} ${c.res.status} ${ms}ms ${id}`,
		);
	};
}

/** The pattern of the handler that answered; "-" when no route did (404/405). */
function routeOf(c: Context): string {
	const route = matchedRoutes(c)[c.req.routeIndex];
	return route && route.method !== "ALL" ? route.path : "-";
}
