import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type HitResult, memoryRateLimiter, slideWindow } from "../../src/ratelimit/limiter";

describe("memoryRateLimiter (the Node limiter's ring log)", () => {
	it("answers every hit exactly as the sliding log does, for times in order", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.integer({ min: 1, max: 8 }),
				fc.integer({ min: 1, max: 5 }),
				// Gaps between hits in ms: bursts, and gaps around the window's edge.
				fc.array(
					fc.oneof(
						fc.constant(0),
						fc.integer({ min: 0, max: 300 }),
						fc.integer({ min: 900, max: 6000 }),
					),
					{
						maxLength: 80,
					},
				),
				async (limit, windowSeconds, gaps) => {
					let now = 1_700_000_000_000;
					const limiter = memoryRateLimiter(() => now);
					let log: number[] = [];
					for (const gap of gaps) {
						now += gap;
						const expected = slideWindow(log, now, limit, windowSeconds);
						log = expected.log;
						const got: HitResult = await limiter.hit("k", limit, windowSeconds);
						expect(got).toEqual(expected.result);
					}
				},
			),
			{ numRuns: 400 },
		);
	});

	it("counts buckets apart, and a clock stepping back does not reopen a full bucket", async () => {
		let now = 1_700_000_000_000;
		const limiter = memoryRateLimiter(() => now);
		for (let i = 0; i < 3; i++) expect((await limiter.hit("a", 3, 60)).allowed).toBe(true);
		expect(await limiter.hit("a", 3, 60)).toEqual({ allowed: false, retryAfter: 60, remaining: 0 });
		expect((await limiter.hit("b", 3, 60)).allowed).toBe(true);
		now -= 3_600_000; // an hour back
		expect((await limiter.hit("a", 3, 60)).allowed).toBe(false);
		now += 3_600_000 + 60_000; // the window after the last hit
		expect(await limiter.hit("a", 3, 60)).toEqual({ allowed: true, retryAfter: 0, remaining: 2 });
	});

	it("keeps the log when a bucket's limit changes", async () => {
		const now = 1_700_000_000_000;
		const limiter = memoryRateLimiter(() => now);
		for (let i = 0; i < 4; i++) await limiter.hit("a", 5, 60);
		expect(await limiter.hit("a", 6, 60)).toEqual({ allowed: true, retryAfter: 0, remaining: 1 });
		expect((await limiter.hit("a", 5, 60)).allowed).toBe(false);
	});
});
