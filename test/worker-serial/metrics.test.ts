/**
 * GET /api/v1/admin/metrics over real activity. This project runs alone (vitest groupOrder),
 * so every figure moves by exactly what these tests do.
 */
import { env as testEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";
import { checkout, createUser, deliverAll } from "../support/billing";
import {
	bearer,
	call,
	createLicense,
	hardwareId,
	mintInvite,
	newUser,
	randomEmail,
	randomIp,
} from "../support/worker-client";

interface Metrics {
	since: string;
	until: string;
	signups: number;
	verified_users: number;
	checkouts: { started: number; completed: number; success_rate: number | null };
	licenses: { created: number; activated: number; activation_rate: number | null };
	validations: number;
	failed_logins: number;
	lockouts: number;
}

async function metrics(query = ""): Promise<Metrics> {
	const res = await call<Metrics>(`/api/v1/admin/metrics${query}`, { admin: true });
	expect(res.status, res.text).toBe(200);
	return res.body;
}

async function login(email: string, password: string): Promise<number> {
	const res = await call("/api/v1/auth/login", { json: { email, password }, ip: randomIp() });
	return res.status;
}

describe("the launch dashboard", () => {
	it("counts exactly the signups, checkouts, licenses, validations and failed logins since `since`", async () => {
		const before = await metrics();
		const since = `?since=${encodeURIComponent(before.until)}`;
		const empty = await metrics(since);
		expect(empty).toMatchObject({
			signups: 0,
			verified_users: 0,
			checkouts: { started: 0, completed: 0, success_rate: null },
			licenses: { created: 0, activated: 0, activation_rate: null },
			validations: 0,
			failed_logins: 0,
			lockouts: 0,
		});

		// Billing: one checkout paid (its webhook creates a license), one abandoned.
		const buyer = await createUser("metrics-buyer"); // a verified account
		const paid = await checkout(buyer);
		await deliverAll(paid.events);
		const abandoned = await call("/api/v1/billing/checkout", {
			json: { plan: "starter", interval: "month" },
			headers: bearer(buyer.token),
		});
		expect(abandoned.status, abandoned.text).toBe(200);

		// Accounts: one signup through the API (verified), then a lockout: five wrong passwords.
		const user = await newUser();
		// One more person who asks for a code twice (and never verifies): one signup, not two.
		const hesitant = randomEmail("twice");
		for (const address of [hesitant, hesitant.toUpperCase()]) {
			const res = await call("/api/v1/auth/signup", {
				json: { email: address, password: "a fine password", invite_code: await mintInvite() },
				ip: randomIp(),
			});
			expect(res.status, res.text).toBe(202);
		}
		for (let i = 0; i < 5; i++) expect(await login(user.email, "wrong password!")).toBe(401);
		expect(await login(randomEmail("nobody"), "whatever it is")).toBe(401);

		// Licenses: two by the operator, one activated and validated twice (on its machine and off it).
		const used = await createLicense();
		await createLicense();
		const machine = hardwareId();
		const activate = await call("/api/v1/licenses/activate", {
			json: { license_key: used.key, hardware_id: machine },
		});
		expect(activate.status, activate.text).toBe(201);
		for (const hw of [machine, hardwareId()]) {
			const res = await call("/api/v1/licenses/validate", {
				json: { license_key: used.key, hardware_id: hw },
			});
			expect(res.status, res.text).toBe(200);
		}

		const after = await metrics(since);
		expect(after).toEqual({
			since: before.until,
			until: expect.any(String),
			signups: 2,
			verified_users: 2,
			checkouts: { started: 2, completed: 1, success_rate: 0.5 },
			licenses: { created: 3, activated: 1, activation_rate: 1 / 3 },
			validations: 2,
			failed_logins: 6,
			lockouts: 1,
		});

		// The default window (30 days) saw the same activity on top of what came before.
		const all = await metrics();
		expect(all.signups - before.signups).toBe(2);
		expect(all.licenses.created - before.licenses.created).toBe(3);
		expect(all.validations - before.validations).toBe(2);
		expect(all.failed_logins - before.failed_logins).toBe(6);
	});

	it("looks back 30 days by default and reads `until` from the database clock", async () => {
		const m = await metrics();
		expect(Date.parse(m.until) - Date.parse(m.since)).toBe(30 * 24 * 3600 * 1000);
		expect(Math.abs(Date.parse(m.until) - Date.now())).toBeLessThan(60_000);
	});

	it("refuses a malformed or unknown query parameter with 400 INVALID_REQUEST", async () => {
		for (const query of ["?since=yesterday", "?since=2026-01-01", "?until=2026-01-01T00:00:00Z"]) {
			const res = await call<{ error: { code: string; fields: string[] } }>(
				`/api/v1/admin/metrics${query}`,
				{ admin: true },
			);
			expect(res.status, res.text).toBe(400);
			expect(res.body.error.code).toBe("INVALID_REQUEST");
			expect(res.text).not.toContain("yesterday");
		}
	});

	it("answers 401 to a user's token and to no token", async () => {
		const buyer = await createUser("metrics-user");
		for (const headers of [bearer(buyer.token), {}]) {
			const res = await call<{ error: { code: string } }>("/api/v1/admin/metrics", { headers });
			expect(res.status, res.text).toBe(401);
			expect(res.body.error.code).toBe("UNAUTHORIZED");
		}
	});

	it("does not exist (404) on a server without ADMIN_TOKEN", async () => {
		const { ADMIN_TOKEN: token, ...env } = testEnv as unknown as Record<string, unknown>;
		const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
		const res = await worker.fetch(
			new Request("http://license.test/api/v1/admin/metrics", {
				headers: { authorization: `Bearer ${String(token)}` },
			}),
			env,
			ctx as unknown as ExecutionContext,
		);
		expect(res.status, await res.clone().text()).toBe(404);
		expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
	});
});
