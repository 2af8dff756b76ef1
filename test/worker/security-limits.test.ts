/**
 * Rate limits (docs/api.md §3.6) under concurrent bursts, inside workerd with the Durable Object
 * limiter: no lost counts, an integer Retry-After, the address from CF-Connecting-IP only.
 * Sequential limits (the sixth real login, the 61st validate, the 11th activation) and the
 * lockout under concurrent failures live in accounts.test.ts and licenses.test.ts.
 *
 * The bursts send bodies the validator refuses: limits count every attempt, malformed ones
 * included, so the limiter is measured alone, without Argon2 or the database in the way.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateLicenseKey } from "../../src/kernel/index";
import { answerOf, expectErrorBody, expectSecurityHeaders } from "../support/route-checks";
import { type ApiResponse, call, hardwareId, randomIp } from "../support/worker-client";

const badLogin = { email: "not-an-email", password: "whatever password" };
const badSignup = { email: "not-an-email", password: "whatever password" };

function burst(n: number, send: (i: number) => Promise<ApiResponse>): Promise<ApiResponse[]> {
	return Promise.all(Array.from({ length: n }, (_, i) => send(i)));
}

function count(results: ApiResponse[], status: number): number {
	return results.filter((r) => r.status === status).length;
}

function expectLimited(res: ApiResponse, path: string, maxSeconds: number): void {
	const body = expectErrorBody(res, 429, "RATE_LIMITED") as unknown as {
		error: { retry_after: number };
	};
	expectSecurityHeaders(res, path);
	const retryAfter = res.headers.get("retry-after") ?? "";
	expect(retryAfter, res.text).toMatch(/^[1-9][0-9]*$/);
	expect(Number(retryAfter)).toBeLessThanOrEqual(maxSeconds);
	expect(body.error.retry_after).toBe(Number(retryAfter));
}

describe("the login limit (5 per minute per address)", () => {
	it("lets exactly 5 of 20 concurrent attempts from one address through, and answers the rest 429", async () => {
		const ip = randomIp();
		const results = await burst(20, () => call("/api/v1/auth/login", { json: badLogin, ip }));
		expect(results.map((r) => r.status).sort()).toEqual([
			...Array<number>(5).fill(400),
			...Array<number>(15).fill(429),
		]);
		for (const res of results.filter((r) => r.status === 429)) {
			expectLimited(res, "/api/v1/auth/login", 60);
		}
	});

	it("is not reset by a changed X-Forwarded-For or any other client-set address header", async () => {
		const ip = randomIp();
		await burst(5, () => call("/api/v1/auth/login", { json: badLogin, ip }));
		const spoofs: Array<Record<string, string>> = [
			{ "x-forwarded-for": randomIp() },
			{ "x-forwarded-for": `${randomIp()}, ${ip}` },
			{ "x-real-ip": randomIp() },
			{ "true-client-ip": randomIp() },
			{ forwarded: `for=${randomIp()}` },
		];
		for (const spoof of spoofs) {
			const res = await call("/api/v1/auth/login", { json: badLogin, ip, headers: spoof });
			expectLimited(res, "/api/v1/auth/login", 60);
		}
		// A different CF-Connecting-IP is a different client.
		expect((await call("/api/v1/auth/login", { json: badLogin, ip: randomIp() })).status).toBe(400);
	});

	it("counts every address of one IPv6 /64 as one client, and the next /64 as another", async () => {
		// randomIp() is `<a /64 of its own>::7`; vary the other 64 bits.
		const prefix = randomIp().replace(/::7$/, "");
		const statuses: number[] = [];
		for (let i = 1; i <= 6; i++) {
			const ip = `${prefix}:${i.toString(16)}:0:0:${(i * 4099).toString(16)}`;
			statuses.push((await call("/api/v1/auth/login", { json: badLogin, ip })).status);
		}
		expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
		const groups = prefix.split(":");
		groups[3] = (Number.parseInt(groups[3] ?? "0", 16) ^ 1).toString(16);
		const neighbour = `${groups.join(":")}::7`;
		expect((await call("/api/v1/auth/login", { json: badLogin, ip: neighbour })).status).toBe(400);
	});

	it("counts the unprefixed /auth/login and OAuth sign-in against the same budget", async () => {
		const ip = randomIp();
		const statuses: number[] = [];
		for (const path of ["/api/v1/auth/login", "/auth/login", "/api/v1/auth/oauth/callback"]) {
			for (let i = 0; i < 2; i++) {
				statuses.push((await call(path, { json: { provider: "nope" }, ip })).status);
			}
		}
		expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
	});

	it("puts callers without a platform address into one shared bucket instead of none", async () => {
		// No CF-Connecting-IP (a request that did not come through Cloudflare's edge).
		const statuses: number[] = [];
		for (let i = 0; i < 6 && !statuses.includes(429); i++) {
			const res = await (exports as unknown as { default: Fetcher }).default.fetch(
				new Request("http://license.test/api/v1/auth/login", {
					method: "POST",
					headers: { "content-type": "application/json", "x-forwarded-for": randomIp() },
					body: JSON.stringify(badLogin),
				}),
			);
			const answer = await answerOf(res);
			statuses.push(answer.status);
			if (answer.status === 429) expectErrorBody(answer, 429, "RATE_LIMITED");
		}
		expect(statuses).toContain(429);
	});
});

describe("the signup limit (3 per minute per address)", () => {
	it("lets exactly 3 of 12 concurrent signups from one address through", async () => {
		const ip = randomIp();
		const results = await burst(12, () => call("/api/v1/auth/signup", { json: badSignup, ip }));
		expect(count(results, 400)).toBe(3);
		expect(count(results, 429)).toBe(9);
		for (const res of results.filter((r) => r.status === 429)) {
			expectLimited(res, "/api/v1/auth/signup", 60);
		}
		// The seed path shares the bucket.
		expectLimited(await call("/auth/signup", { json: badSignup, ip }), "/auth/signup", 60);
	});
});

describe("the activate limit (10 per hour per license key)", () => {
	it("lets exactly 10 of 15 concurrent activations of one key through, whatever its spelling", async () => {
		const key = generateLicenseKey();
		const spellings = [key, key.toLowerCase(), key.replace(/-/g, "")];
		const results = await burst(15, (i) =>
			call("/api/v1/licenses/activate", {
				json: { license_key: spellings[i % 3], hardware_id: hardwareId() },
				ip: randomIp(),
			}),
		);
		expect(count(results, 404), results.map((r) => r.text).join("\n")).toBe(10);
		expect(count(results, 429)).toBe(5);
		for (const res of results.filter((r) => r.status === 429)) {
			expectLimited(res, "/api/v1/licenses/activate", 3600);
			expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(60);
		}
	});
});
