/**
 * CI lease races through the Node entry over real HTTP on a pooled Postgres: the slot limit,
 * one lease per job, and heartbeat against expiry hold when requests really overlap.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hashApiKey } from "../../src/ci/api-keys";
import { newId } from "../../src/ids";
import { encodeBase64Url } from "../../src/kernel/base64url";
import { importKeyPepper } from "../../src/kernel/license-key";
import type { RunningServer } from "../../src/server";
import { closeAgents, createLicense, http, isRealPostgres, nodeServer, testSql } from "./support";

// Real Postgres runs 20 rounds of each race; the embedded database (one backend) 3.
const ROUNDS = isRealPostgres ? 20 : 3;
const kind = isRealPostgres ? "real Postgres" : "embedded database";

let server: RunningServer;
let pepper: CryptoKey;
const sql = testSql();
let calls = 0;

beforeAll(async () => {
	server = await nodeServer();
	pepper = await importKeyPepper(inject("pepper"));
});
afterAll(async () => {
	closeAgents();
	await server.close();
	await sql.end();
});

/** An org with a license of `plan` and an API key, arranged in the database. */
async function org(plan: string): Promise<{ orgId: string; key: string }> {
	const orgId = newId("org");
	const { id: licenseId } = await createLicense(server.url, { plan });
	const key = `cdt_ci_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
	await sql`insert into orgs (id, name) values (${orgId}, 'race')`;
	await sql`update licenses set org_id = ${orgId} where id = ${licenseId}`;
	await sql`insert into org_api_keys (id, org_id, name, key_hash, key_last4)
		values (${newId("cik")}, ${orgId}, 'ci', ${await hashApiKey(pepper, key)}, ${key.slice(-4)})`;
	return { orgId, key };
}

// Each call from its own loopback address, so the per-address lease limit never decides.
const post = (path: string, key: string, json: unknown) =>
	http<{ lease_id?: string; expires_at?: string }>(`${server.url}${path}`, {
		json,
		headers: { authorization: `Bearer ${key}` },
		from: address(calls++),
	});

function address(n: number): string {
	return `127.2.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
}

async function liveLeases(orgId: string): Promise<number> {
	const [row] = await sql<[{ n: number }]>`select count(*)::int as n from ci_leases
		where org_id = ${orgId} and released_at is null and expires_at > clock_timestamp()`;
	return row.n;
}

describe("twenty jobs leasing at once on a plan with 5 runners", () => {
	it(`get exactly 5 slots, in each of ${ROUNDS} rounds (${kind})`, async () => {
		for (let round = 0; round < ROUNDS; round++) {
			const { orgId, key } = await org("smb");
			const results = await Promise.all(
				Array.from({ length: 20 }, (_, i) =>
					post("/api/v1/ci/leases", key, { job_id: `job-${i}` }),
				),
			);
			const statuses = results.map((r) => r.status);
			const why = `round ${round}: ${JSON.stringify(statuses)}`;
			expect(statuses.filter((s) => s === 201).length, why).toBe(5);
			expect(statuses.filter((s) => s === 409).length, why).toBe(15);
			expect(await liveLeases(orgId), why).toBe(5);
		}
	}, 240_000);
});

describe("twenty requests for the same job at once", () => {
	it(`make one lease that all of them get, in each of ${ROUNDS} rounds (${kind})`, async () => {
		for (let round = 0; round < ROUNDS; round++) {
			const { orgId, key } = await org("smb");
			const results = await Promise.all(
				Array.from({ length: 20 }, () => post("/api/v1/ci/leases", key, { job_id: "the-job" })),
			);
			const statuses = results.map((r) => r.status);
			const why = `round ${round}: ${JSON.stringify(statuses)}`;
			expect(statuses.filter((s) => s === 201).length, why).toBe(1);
			expect(statuses.filter((s) => s === 200).length, why).toBe(19);
			expect(new Set(results.map((r) => r.body.lease_id)).size, why).toBe(1);
			const [rows] = await sql<
				[{ n: number }]
			>`select count(*)::int as n from ci_leases where org_id = ${orgId}`;
			expect(rows.n, why).toBe(1);
		}
	}, 240_000);
});

describe("a heartbeat racing its lease's expiry and a new job wanting the one slot", () => {
	it(`never lets both win, in each of ${ROUNDS * 2} rounds (${kind})`, async () => {
		const outcomes = new Map<string, number>();
		for (let round = 0; round < ROUNDS * 2; round++) {
			const { orgId, key } = await org("team"); // 1 runner
			const held = await post("/api/v1/ci/leases", key, { job_id: "old" });
			expect(held.status).toBe(201);
			await sql`update ci_leases set expires_at = clock_timestamp() + interval '100 milliseconds'
				where id = ${held.body.lease_id ?? ""}`;
			await new Promise((r) => setTimeout(r, 40 + (round % 8) * 20));
			const [beat, fresh] = await Promise.all([
				post(`/api/v1/ci/leases/${held.body.lease_id}/heartbeat`, key, {}),
				post("/api/v1/ci/leases", key, { job_id: "new" }),
			]);
			const why = `round ${round}: heartbeat ${beat.status}, lease ${fresh.status}`;
			expect(beat.status === 200 && fresh.status === 201, why).toBe(false);
			expect([200, 404]).toContain(beat.status);
			expect([201, 409]).toContain(fresh.status);
			expect(await liveLeases(orgId), why).toBeLessThanOrEqual(1);
			const label = `${beat.status}/${fresh.status}`;
			outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
		}
		// Both sides of the race were seen, or the test proved nothing about it.
		expect([...outcomes.keys()].length, JSON.stringify([...outcomes])).toBeGreaterThanOrEqual(2);
	}, 240_000);
});
