import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import { documented } from "../openapi/tags";
import { type HitResult, RATE_LIMITS, type RateLimitRule } from "../ratelimit/limiter";
import type { AppEnv } from "../services";

/**
 * Applies `rule` to the value `keyOf` picks (client IP, canonical license key…). Put it after
 * the validator when the key comes from the body. A limiter failure lets the request through:
 * an outage of the limiter must not lock every licensed user out (lockout still guards logins).
 */
export function rateLimit(
	rule: RateLimitRule,
	keyOf: (c: Context<AppEnv>) => string | null,
): MiddlewareHandler<AppEnv> {
	const { limit, windowSeconds } = RATE_LIMITS[rule];
	// Not async: Node's limiter answers at once, and then this layer hands back the next one's
	// promise (two promises fewer on validate's hot path); the Durable Object's answer is awaited.
	const middleware: MiddlewareHandler<AppEnv> = (c, next) => {
		const value = keyOf(c);
		if (value === null) return next();
		const { limiter } = c.get("services");
		let hit: HitResult | Promise<HitResult> | null;
		try {
			hit = limiter.hit(`${rule}:${value}`, limit, windowSeconds);
		} catch (err) {
			hit = unavailable(c, err);
		}
		// A thenable, not only a Promise: a Durable Object stub's call answers with its own kind.
		if (hit !== null && "then" in hit) {
			return Promise.resolve(hit)
				.catch((err: unknown) => unavailable(c, err))
				.then((result) => decide(result, next));
		}
		return decide(hit, next);
	};
	const decide = (result: HitResult | null, next: () => Promise<void>): Promise<void> => {
		if (result && !result.allowed) {
			throw new ApiError(
				"RATE_LIMITED",
				`Too many ${rule} requests (limit ${limit} per ${windowSeconds} s). Try again in ${result.retryAfter} s.`,
				{
					extra: { retry_after: result.retryAfter },
					headers: { "Retry-After": String(result.retryAfter) },
				},
			);
		}
		return next();
	};
	return documented(middleware, { kind: "rate-limit", rule, limit, windowSeconds });
}

/** A limiter failure lets the request through (see rateLimit), and says so in the log. */
function unavailable(c: Context<AppEnv>, err: unknown): null {
	console.error(
		`[${c.get("requestId")}] rate limiter unavailable:`,
		err instanceof Error ? err.message : err,
	);
	return null;
}
