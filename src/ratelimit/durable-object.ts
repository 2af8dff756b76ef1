import { DurableObject } from "cloudflare:workers";

export interface HitResult {
	allowed: boolean;
	/** Whole seconds until the next request would be allowed (0 when allowed). */
	retryAfter: number;
	remaining: number;
}

/**
 * One instance per limited key (`login:ip:…`, `activate:key:…`), so every edge location talks
 * to the same counter: limits are global, not per colo. Requests to one object are serialized
 * by the runtime, so a burst cannot lose counts. A sliding log is exact for our small limits.
 */
export class RateLimiter extends DurableObject {
	async hit(limit: number, windowSeconds: number): Promise<HitResult> {
		const now = Date.now();
		const windowMs = windowSeconds * 1000;
		const stored = (await this.ctx.storage.get<number[]>("log")) ?? [];
		const log = stored.filter((t) => t > now - windowMs);
		if (log.length >= limit) {
			const oldest = log[0] ?? now;
			return {
				allowed: false,
				retryAfter: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)),
				remaining: 0,
			};
		}
		log.push(now);
		await this.ctx.storage.put("log", log);
		// Clean up once the window has passed so idle keys cost no storage.
		await this.ctx.storage.setAlarm(now + windowMs + 1000);
		return { allowed: true, retryAfter: 0, remaining: limit - log.length };
	}

	override async alarm(): Promise<void> {
		await this.ctx.storage.deleteAll();
	}
}
