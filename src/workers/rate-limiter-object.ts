import { DurableObject } from "cloudflare:workers";
import { type HitResult, type RateLimiter, slideWindow } from "../ratelimit/limiter";

/**
 * One instance per limited key (`login:…`, `activate:…`), so every edge location talks to the
 * same counter: limits are global, not per colo. The runtime runs one request at a time per
 * object (input gates), so a burst cannot lose counts.
 */
export class RateLimiterObject extends DurableObject {
	/** The live log, kept in memory between calls; storage is its durable copy. */
	private log: number[] | null = null;
	private windowMs = 0;
	private alarmAt = 0;

	async hit(limit: number, windowSeconds: number): Promise<HitResult> {
		const now = Date.now();
		// Storage reads close the input gate, so two first calls cannot both load and overwrite.
		this.log ??= (await this.ctx.storage.get<number[]>("log")) ?? [];
		this.windowMs = windowSeconds * 1000;
		const { result, log } = slideWindow(this.log, now, limit, windowSeconds);
		this.log = log;
		if (result.allowed) {
			// The answer need not wait for the disk: losing the last few hits in a crash only errs
			// on the side of letting a request through, never on locking someone out.
			void this.ctx.storage.put({ log, windowMs: this.windowMs }, { allowUnconfirmed: true });
			if (this.alarmAt < now) {
				this.alarmAt = now + this.windowMs + 1000;
				void this.ctx.storage.setAlarm(this.alarmAt);
			}
		}
		return result;
	}

	/** Forgets the key once its window has passed, so idle keys cost no storage. */
	override async alarm(): Promise<void> {
		const now = Date.now();
		// After an eviction the memory is empty: the durable copy says what is still live.
		this.log ??= (await this.ctx.storage.get<number[]>("log")) ?? [];
		if (this.windowMs === 0) this.windowMs = (await this.ctx.storage.get<number>("windowMs")) ?? 0;
		const newest = this.log.at(-1) ?? 0;
		if (newest > now - this.windowMs) {
			this.alarmAt = newest + this.windowMs + 1000;
			await this.ctx.storage.setAlarm(this.alarmAt);
			return;
		}
		this.log = null;
		this.alarmAt = 0;
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
