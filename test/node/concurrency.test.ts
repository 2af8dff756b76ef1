/**
 * Races through the Node entry over real HTTP on a pooled Postgres (postgres.js, 10
 * connections): the guarantees hold when requests really overlap in the database, not only
 * inside workerd. test/worker/* covers the same races once each (plus 10 duplicate webhooks and
 * two concurrent refreshes); here they are repeated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server";
import {
	clientAddress,
	closeAgents,
	createLicense,
	hardwareId,
	http,
	isRealPostgres,
	nodeServer,
	testSql,
	verificationCodeHash,
} from "./support";

// Real Postgres runs the full 100 rounds; the embedded one (one backend, every transaction
// queued behind the last) runs 10 so `npm test` stays quick. The test name says which.
const ROUNDS = isRealPostgres ? 100 : 10;

let server: RunningServer;
const sql = testSql();

beforeAll(async () => {
	server = await nodeServer({ env: { ENABLE_PILOT_SIGNUP: "true" } });
});
afterAll(async () => {
	closeAgents();
	await server.close();
	await sql.end();
});

describe("twenty machines activating one license at once", () => {
	it(`get exactly 3 seats out of 3, in each of ${ROUNDS} rounds (${isRealPostgres ? "real Postgres" : "embedded database"})`, async () => {
		for (let round = 0; round < ROUNDS; round++) {
			const { key, id } = await createLicense(server.url, { max_activations: 3 });
			const results = await Promise.all(
				Array.from({ length: 20 }, (_, i) =>
					http(`${server.url}/api/v1/licenses/activate`, {
						json: { license_key: key, hardware_id: hardwareId(`${round}-${i}`) },
					}),
				),
			);
			const statuses = results.map((r) => r.status);
			const why = `round ${round}: ${JSON.stringify(statuses)}`;
			expect(statuses.filter((s) => s === 201).length, why).toBe(3);
			// activate allows 10 per key per hour, so 10 of the 20 reach the database and race for
			// the 3 seats; the other 10 are 429 before any query.
			expect(statuses.filter((s) => s === 403).length, why).toBe(7);
			expect(statuses.filter((s) => s === 429).length, why).toBe(10);
			const [rows] = await sql<[{ active: number; audited: number }]>`
				select
					(select count(*)::int from activations where license_id = ${id} and deactivated_at is null) as active,
					(select count(*)::int from audit_logs where license_id = ${id}
						and action = 'license_activate' and result = 'success') as audited`;
			expect(rows, why).toEqual({ active: 3, audited: 3 });
		}
	}, 240_000);
});

describe("twenty signups for one address at once", () => {
	it("all answer 202, leave a few pending codes, and twenty concurrent verifies with one make one account", async () => {
		const email = `race-${crypto.randomUUID().slice(0, 8)}@example.test`;
		const password = "correct horse battery";
		// Signup allows 3 per minute per address: each attempt comes from its own client address.
		const signups = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				http(`${server.url}/api/v1/auth/signup`, {
					json: { email, password },
					from: clientAddress(1000 + i),
				}),
			),
		);
		expect(
			signups.map((r) => r.status),
			signups.map((r) => r.text).join("\n"),
		).toEqual(Array(20).fill(202));
		// Each signup adds a code and prunes the older ones it can see; in a burst they see
		// little of each other, so how many stay varies (the worker suite checks the cap).
		const pending = await sql<
			{ code_hash: string }[]
		>`select code_hash from verification_codes where email = ${email}`;
		expect(pending.length).toBeGreaterThanOrEqual(1);

		// The codes are mailed after the response; take one of the pending rows.
		const stored = pending[0]?.code_hash;
		let code = "";
		for (let n = 0; n < 1_000_000 && !code; n++) {
			const candidate = String(n).padStart(6, "0");
			if (verificationCodeHash(email, candidate) === stored) code = candidate;
		}
		expect(code).toMatch(/^\d{6}$/);

		const verifies = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				http(`${server.url}/api/v1/auth/verify`, {
					json: { email, code },
					from: clientAddress(2000 + i),
				}),
			),
		);
		const statuses = verifies.map((r) => r.status);
		expect(statuses.filter((s) => s === 200).length, JSON.stringify(statuses)).toBe(1);
		expect(statuses.filter((s) => s !== 200).every((s) => s === 400)).toBe(true);
		const accounts = await sql`select id from users where email = ${email}`;
		expect(accounts).toHaveLength(1);

		// Twenty more signups for the now existing account change nothing.
		const again = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				http(`${server.url}/api/v1/auth/signup`, {
					json: { email, password },
					from: clientAddress(3000 + i),
				}),
			),
		);
		expect(again.map((r) => r.status)).toEqual(Array(20).fill(202));
		expect(await sql`select id from users where email = ${email}`).toHaveLength(1);
	}, 60_000);
});
