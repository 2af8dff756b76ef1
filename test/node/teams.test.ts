/**
 * Seat races through the Node entry over real HTTP on a pooled Postgres: concurrent accepts
 * never exceed the seats, and a member removed while activating keeps no machine.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { importJwtSecret, signAccessToken } from "../../src/accounts/access-token";
import { newId } from "../../src/ids";
import type { RunningServer } from "../../src/server";
import { closeAgents, hardwareId, http, isRealPostgres, nodeServer, testSql } from "./support";

const ISSUER = "http://teams.node.test";
const ROUNDS = isRealPostgres ? 5 : 2;
// Removal races are cheap (no mail per person): more rounds find a lock-order deadlock.
const REMOVAL_ROUNDS = isRealPostgres ? 25 : 3;

let server: RunningServer;
const sql = testSql();

beforeAll(async () => {
	server = await nodeServer({ env: { PUBLIC_URL: ISSUER } });
});
afterAll(async () => {
	closeAgents();
	await server.close();
	await sql.end();
});

interface User {
	id: string;
	email: string;
	auth: Record<string, string>;
}

/** A verified user with a live session, made in the database (no Argon2, no mail). */
async function user(label: string): Promise<User> {
	const id = newId("usr");
	const email = `${label}-${id.slice(4, 14)}@example.test`;
	const family = newId("rtf");
	await sql`insert into users (id, email, email_verified_at) values (${id}, ${email}, now())`;
	await sql`insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
		values (${newId("rtk")}, ${id}, ${family}, ${crypto.randomUUID()}, now() + interval '1 day')`;
	const key = await importJwtSecret(inject("jwtSecret"));
	const token = await signAccessToken(key, ISSUER, { userId: id, email, sessionId: family });
	return { id, email, auth: { authorization: `Bearer ${token}` } };
}

async function licensedOrg(owner: User, seats: number): Promise<string> {
	const org = await http<{ id: string }>(`${server.url}/api/v1/orgs`, {
		json: { name: "Race Inc" },
		headers: owner.auth,
	});
	expect(org.status, org.text).toBe(201);
	const license = await http(`${server.url}/api/v1/admin/licenses`, {
		json: { plan: "team", owner_email: owner.email, org_id: org.body.id, seats },
		admin: true,
	});
	expect(license.status, license.text).toBe(201);
	return org.body.id;
}

/** The code in the latest invitation mail the run's fake Resend received for `to`. */
async function mailedCode(to: string): Promise<string> {
	for (let i = 0; i < 100; i++) {
		const res = await fetch(`${inject("oauthIssuer")}/_test/mails?to=${encodeURIComponent(to)}`);
		const { mails } = (await res.json()) as { mails: Array<{ text: string }> };
		const code = mails.at(-1)?.text.match(/ORG-[0-9A-Z-]+/)?.[0];
		if (code) return code;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`no invitation mailed to ${to}`);
}

async function invite(orgId: string, owner: User, email: string): Promise<string> {
	const res = await http(`${server.url}/api/v1/orgs/${orgId}/invitations`, {
		json: { email },
		headers: owner.auth,
	});
	expect(res.status, res.text).toBe(201);
	return mailedCode(email);
}

describe("seats under concurrency", () => {
	it(`20 parallel accepts on 5 seats seat exactly 5 members, in each of ${ROUNDS} rounds`, async () => {
		for (let round = 0; round < ROUNDS; round++) {
			const owner = await user("owner");
			const orgId = await licensedOrg(owner, 5);
			const people = await Promise.all(Array.from({ length: 20 }, () => user("racer")));
			const codes = await Promise.all(people.map((p) => invite(orgId, owner, p.email)));
			const answers = await Promise.all(
				people.map((p, i) =>
					http(`${server.url}/api/v1/invitations/accept`, {
						json: { code: codes[i] },
						headers: p.auth,
					}),
				),
			);
			const statuses = answers.map((a) => a.status);
			const why = `round ${round}: ${JSON.stringify(statuses)}`;
			// The owner holds the fifth seat.
			expect(statuses.filter((s) => s === 201).length, why).toBe(4);
			expect(statuses.filter((s) => s === 403).length, why).toBe(16);
			const [row] = await sql<[{ n: number }]>`
				select count(*)::int as n from org_members where org_id = ${orgId}`;
			expect(row?.n, why).toBe(5);
		}
	}, 120_000);

	it(`a member removed while activating keeps no machine, in each of ${REMOVAL_ROUNDS} rounds`, async () => {
		for (let round = 0; round < REMOVAL_ROUNDS; round++) {
			const owner = await user("owner");
			const orgId = await licensedOrg(owner, 5);
			const member = await user("member");
			const accepted = await http(`${server.url}/api/v1/invitations/accept`, {
				json: { code: await invite(orgId, owner, member.email) },
				headers: member.auth,
			});
			expect(accepted.status, accepted.text).toBe(201);
			const activations = Array.from({ length: 3 }, (_, i) =>
				http(`${server.url}/api/v1/licenses/activate-mine`, {
					json: { hardware_id: hardwareId(`${member.id}-${i}`) },
					headers: member.auth,
				}),
			);
			const removal = http(`${server.url}/api/v1/orgs/${orgId}/members/${member.id}`, {
				method: "DELETE",
				headers: owner.auth,
			});
			const [removed, ...activated] = await Promise.all([removal, ...activations]);
			const why = `round ${round}: removal ${removed?.status}, activations ${activated.map((a) => a.status)}`;
			expect(removed?.status, why).toBe(200);
			for (const a of activated) expect([201, 404], why).toContain(a.status);
			const machines = [0, 1, 2].map((i) => hardwareId(`${member.id}-${i}`));
			const [row] = await sql<[{ n: number }]>`
				select count(*)::int as n from activations
				where deactivated_at is null and hardware_id in ${sql(machines)}`;
			expect(row?.n, why).toBe(0);
		}
	}, 120_000);
});
