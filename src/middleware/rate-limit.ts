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
	const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
		const value = keyOf(c);
		if (value !== null) {
			const { limiter } = c.get("services");
			let result: HitResult | null = null;
			try {
				result = await limiter.hit(`${rule}:${value}`, limit, windowSeconds);
			} catch (err) {
				console.error(
					`[${c.get("requestId")}] rate limiter unavailable:`,
					err instanceof Error ? err.message : err,
				);
			}
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
		}
		await next();
	};
	return documented(middleware, { kind: "rate-limit", rule, limit, windowSeconds });
}
