import { DurableObject } from "cloudflare:workers";
import { type HitResult, type RateLimiter, slideWindow } from "./limiter";

/**
 * One instance per limited key (`login:…`, `activate:…`), so every edge location talks to the
 * same counter: limits are global, not per colo. The runtime runs one request at a time per
 * object (input gates), so a burst cannot lose counts.
 */
export class RateLimiterObject extends DurableObject {
	async hit(limit: number, windowSeconds: number): Promise<HitResult> {
		const now = Date.now();
		const stored = (await this.ctx.storage.get<number[]>("log")) ?? [];
		const { result, log } = slideWindow(stored, now, limit, windowSeconds);
		if (result.allowed) {
			await this.ctx.storage.put("log", log);
			// Forget the key once its window has passed, so idle keys cost no storage.
			await this.ctx.storage.setAlarm(now + windowSeconds * 1000 + 1000);
		}
		return result;
	}

	override async alarm(): Promise<void> {
		await this.ctx.storage.deleteAll();
	}
}

export function durableObjectRateLimiter(
	ns: DurableObjectNamespace<RateLimiterObject>,
): RateLimiter {
	return {
		hit: (bucket, limit, windowSeconds) => ns.get(ns.idFromName(bucket)).hit(limit, windowSeconds),
	};
}
