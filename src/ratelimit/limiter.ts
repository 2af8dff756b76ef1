/**
 * Rate limits (docs/api.md §3.6) behind one interface: a Durable Object per key on Workers (one
 * counter for every edge location), an in-process sliding log on Node.
 */
import ipaddr from "ipaddr.js";

export interface HitResult {
	allowed: boolean;
	/** Whole seconds until the next request would be allowed (0 when allowed). */
	retryAfter: number;
	remaining: number;
}

export interface RateLimiter {
	/** Counts one request against `bucket` and says whether it may proceed. */
	hit(bucket: string, limit: number, windowSeconds: number): HitResult | Promise<HitResult>;
}

export const RATE_LIMITS = {
	login: { limit: 5, windowSeconds: 60 },
	/**
	 * Operator console sign-ins per client address: the ADMIN token has 256 bits, so this is
	 * about noise in the audit log more than guessing; a person mistyping a paste stays well under.
	 */
	admin_login: { limit: 10, windowSeconds: 60 },
	signup: { limit: 3, windowSeconds: 60 },
	validate: { limit: 60, windowSeconds: 60 },
	activate: { limit: 10, windowSeconds: 3600 },
	/**
	 * CI lease acquisitions per client address (an IPv6 /64): a job leases once and then
	 * heartbeats, so 10 a second from one address is far above honest use (a company NAT in
	 * front of many self-hosted runners) yet bounds ID-token checks and org-lock traffic from
	 * a runaway retry loop. Heartbeat and release are not limited: a 429 there would keep a
	 * slot taken or let a running job's lease lapse.
	 */
	ci_lease: { limit: 600, windowSeconds: 60 },
} as const;
export type RateLimitRule = keyof typeof RATE_LIMITS;

/**
 * The bucket a client address counts in. An IPv6 client usually holds a whole /64 (one
 * customer's subnet, handed out by every ISP and cloud), so counting per full address would
 * give an attacker 2^64 fresh login buckets; the /64 is what identifies the client. IPv4, and
 * IPv4 written as IPv6 (`::ffff:203.0.113.7`, as Node's dual-stack sockets report it), count
 * per address. Anything unparseable counts as itself.
 */
export function addressBucket(ip: string): string {
	if (!ipaddr.isValid(ip)) return ip;
	const parsed = ipaddr.process(ip); // unwraps IPv4-mapped IPv6
	if (parsed.kind() === "ipv4") return parsed.toString();
	const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
	return `${parts.map((p) => p.toString(16)).join(":")}::/64`;
}

/** Sliding log: exact for small limits; shared by the Durable Object and the Node limiter. */
export function slideWindow(
	log: number[],
	now: number,
	limit: number,
	windowSeconds: number,
): { result: HitResult; log: number[] } {
	const windowMs = windowSeconds * 1000;
	const live = log.filter((t) => t > now - windowMs);
	if (live.length >= limit) {
		const oldest = live[0] ?? now;
		const retryAfter = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
		return { result: { allowed: false, retryAfter, remaining: 0 }, log: live };
	}
	live.push(now);
	return { result: { allowed: true, retryAfter: 0, remaining: limit - live.length }, log: live };
}

/**
 * One bucket's sliding log kept in place: the times of the last `limit` allowed hits in a ring.
 * Same answers as slideWindow for times that never go backwards (the limiter keeps them so).
 *
 * Why not slideWindow's array per hit on Node: that array lived until the key's next hit,
 * seconds later, so the young generation promoted it, and every scavenge walked the pointers
 * from the old Map to the new arrays. Under validate load (thousands of keys) scavenges took
 * ~7 ms against ~3 ms for the same-work reference, and old space grew ~1.7 MB a scavenge.
 * A ring of doubles holds no pointers and is written in place.
 */
export class RingLog {
	readonly #times: Float64Array;
	#head = 0;
	#size = 0;

	constructor(readonly limit: number) {
		this.#times = new Float64Array(limit);
	}

	/** The newest logged time, or -Infinity for an empty log. */
	get newest(): number {
		return this.#size === 0
			? Number.NEGATIVE_INFINITY
			: (this.#times[(this.#head + this.#size - 1) % this.limit] as number);
	}

	/** Logged times, oldest first (to carry a log over to a new limit). */
	*entries(): Generator<number> {
		for (let i = 0; i < this.#size; i++) yield this.#times[(this.#head + i) % this.limit] as number;
	}

	hit(now: number, windowSeconds: number): HitResult {
		const windowMs = windowSeconds * 1000;
		const times = this.#times;
		while (this.#size > 0 && (times[this.#head] as number) <= now - windowMs) {
			this.#head = (this.#head + 1) % this.limit;
			this.#size--;
		}
		if (this.#size >= this.limit) {
			const oldest = times[this.#head] as number;
			const retryAfter = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
			return { allowed: false, retryAfter, remaining: 0 };
		}
		times[(this.#head + this.#size) % this.limit] = now;
		this.#size++;
		return { allowed: true, retryAfter: 0, remaining: this.limit - this.#size };
	}
}

/**
 * One Node process's limiter. Several Node instances behind a balancer each count on their
 * own (a client gets up to N× the limit); put one instance per database or use the Worker.
 * `clock` is for tests.
 */
export function memoryRateLimiter(clock: () => number = Date.now): RateLimiter {
	const logs = new Map<string, RingLog>();
	let sweeps = 0;
	return {
		// Synchronous: an in-process answer needs no promise (validate's hot path).
		hit(bucket, limit, windowSeconds) {
			let log = logs.get(bucket);
			if (log === undefined || log.limit !== limit) {
				const next = new RingLog(limit);
				// A changed limit keeps the log: re-count what is still in the window.
				if (log) for (const t of log.entries()) next.hit(t, windowSeconds);
				log = next;
				logs.set(bucket, log);
			}
			// The clock may step back (NTP); a log in time order keeps the ring's answers exact.
			const now = Math.max(clock(), log.newest);
			const result = log.hit(now, windowSeconds);
			// Drop idle buckets now and then so memory stays bounded by active clients.
			if (++sweeps % 1024 === 0) {
				for (const [k, v] of logs) if (v.newest < now - 3600_000) logs.delete(k);
			}
			return result;
		},
	};
}
