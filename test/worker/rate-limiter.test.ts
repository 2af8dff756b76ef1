/// <reference types="@cloudflare/vitest-plugin/types" />
/** The Durable Object behind every Worker rate limit: exact counts that survive eviction. */

import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RateLimiterObject } from "../../src/workers/rate-limiter-object";

const ns = (env as unknown as { RATE_LIMITER: DurableObjectNamespace<RateLimiterObject> })
	.RATE_LIMITER;

describe("the rate limiter object", () => {
	it("allows exactly the limit in a burst of concurrent hits", async () => {
		const stub = ns.get(ns.idFromName(`burst-${crypto.randomUUID()}`));
		const results = await Promise.all(Array.from({ length: 25 }, () => stub.hit(5, 60)));
		expect(results.filter((r) => r.allowed).length).toBe(5);
		for (const r of results.filter((x) => !x.allowed)) {
			expect(Number.isInteger(r.retryAfter) && r.retryAfter >= 1 && r.retryAfter <= 60).toBe(true);
		}
	});

	it("keeps its counts when the object is evicted from memory", async () => {
		const stub = ns.get(ns.idFromName(`evict-${crypto.randomUUID()}`));
		for (let i = 0; i < 3; i++) expect((await stub.hit(3, 3600)).allowed).toBe(true);
		await evictDurableObject(stub);
		const after = await stub.hit(3, 3600);
		expect(after.allowed).toBe(false);
		expect(after.retryAfter).toBeGreaterThan(3000);
	});

	it("keeps live entries when its cleanup alarm fires early, after an eviction", async () => {
		const stub = ns.get(ns.idFromName(`alarm-${crypto.randomUUID()}`));
		for (let i = 0; i < 2; i++) await stub.hit(2, 3600);
		await evictDurableObject(stub);
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		expect((await stub.hit(2, 3600)).allowed).toBe(false);
	});
});
