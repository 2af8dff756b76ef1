/**
 * The outbox against the run's Postgres and a real local HTTP receiver: signed deliveries,
 * retries with backoff, dead rows, and runners racing for the same rows.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { importJwtSecret, signAccessToken } from "../../src/accounts/access-token";
import { createDb, type Database } from "../../src/db/client";
import { newId } from "../../src/ids";
import {
	AddressNotAllowedError,
	guardedLookup,
	guardedWebhookFetch,
	type ResolveAll,
} from "../../src/node/webhook-fetch";
import type { RunningServer } from "../../src/server";
import { deliverDue } from "../../src/webhooks/deliver";
import { enqueue } from "../../src/webhooks/outbox";
import { endpointSecrets } from "../../src/webhooks/secrets";
import { newWebhookSecret, SIGNATURE_HEADER, verifySignature } from "../../src/webhooks/sign";
import { PRODUCTION_POLICY } from "../../src/webhooks/ssrf";
import { closeAgents, createLicense, http, nodeServer, testSql } from "./support";

const dev = { httpsOnly: false, allowLoopback: true };
/** The servers' own: sealed under the run's LICENSE_KEY_PEPPER. */
const secrets = endpointSecrets(inject("pepper"));
const sql = testSql();
let db: Database;
let receiver: Server;
let base: string;
interface Received {
	path: string;
	body: string;
	signature: string;
}
let received: Received[] = [];
/** Status the receiver answers per path; 200 when unset. */
const statusFor = new Map<string, number>();

beforeAll(async () => {
	db = createDb(testSql());
	receiver = createServer((req, res) => {
		let body = "";
		req.setEncoding("utf8");
		req.on("data", (c: string) => {
			body += c;
		});
		req.on("end", () => {
			const path = req.url ?? "/";
			received.push({
				path,
				body,
				signature: String(req.headers[SIGNATURE_HEADER.toLowerCase()] ?? ""),
			});
			res.writeHead(statusFor.get(path) ?? 200).end("ok");
		});
	});
	await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
	base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
	await new Promise((ok) => receiver.close(ok));
	await db.$client.end();
	await sql.end();
});
beforeEach(async () => {
	received = [];
	statusFor.clear();
	// Endpoints of earlier tests must not catch this test's events.
	await sql`update webhook_endpoints set disabled_at = now() where disabled_at is null`;
	// And what they still had queued (an operator endpoint hears other files' events too), so a
	// run's counts below are this test's rows only.
	await sql`delete from webhook_outbox where delivered_at is null and dead_at is null
		and endpoint_id in (select id from webhook_endpoints where disabled_at is not null)`;
});

async function endpoint(opts: {
	orgId?: string | null;
	path: string;
	events?: string[];
	previous?: string;
	/** Stored as it was before migration 0010: in the clear. */
	plaintext?: boolean;
}): Promise<{ id: string; secret: string }> {
	const id = newId("whe");
	const secret = newWebhookSecret();
	const stored = async (value: string) => (opts.plaintext ? value : secrets.seal(id, value));
	const previous = opts.previous ? await stored(opts.previous) : null;
	await sql`insert into webhook_endpoints (id, org_id, url, events, secret_current, secret_previous, previous_expires_at)
		values (${id}, ${opts.orgId ?? null}, ${base + opts.path}, string_to_array(${(opts.events ?? ["license.created"]).join(",")}, ','),
			${await stored(secret)}, ${previous}, ${opts.previous ? new Date(Date.now() + 3600_000) : null})`;
	return { id, secret };
}

function only(list: Received[]): Received {
	expect(list).toHaveLength(1);
	return list[0] as Received;
}

async function org(): Promise<string> {
	const id = newId("org");
	await sql`insert into orgs (id, name) values (${id}, 'hooks')`;
	return id;
}

async function row(eventId: string, endpointId: string) {
	const [r] = await sql<
		[
			{
				attempts: number;
				last_status: number | null;
				delivered: boolean;
				dead: boolean;
				wait: number;
			},
		]
	>`select attempts, last_status, delivered_at is not null as delivered, dead_at is not null as dead,
		extract(epoch from next_attempt_at - now())::int as wait
		from webhook_outbox where event_id = ${eventId} and endpoint_id = ${endpointId}`;
	return r;
}

describe("enqueue", () => {
	it("queues for the org's endpoints and the operator's, matching the event type, in the change's transaction", async () => {
		const [a, b] = [await org(), await org()];
		const own = await endpoint({ orgId: a, path: "/a" });
		const other = await endpoint({ orgId: b, path: "/b" });
		const operator = await endpoint({
			orgId: null,
			path: "/op",
			events: ["license.created", "license.revoked"],
		});
		const deaf = await endpoint({ orgId: a, path: "/deaf", events: ["activation.created"] });
		const { eventId, queued } = await db.transaction((tx) =>
			enqueue(tx, { type: "license.created", orgId: a, data: { id: "lic_1" } }),
		);
		expect(queued).toBe(2);
		const targets = await sql<Array<{ endpoint_id: string }>>`
			select endpoint_id from webhook_outbox where event_id = ${eventId} order by endpoint_id`;
		expect(targets.map((t) => t.endpoint_id).sort()).toEqual([own.id, operator.id].sort());
		expect(targets.map((t) => t.endpoint_id)).not.toContain(other.id);
		expect(targets.map((t) => t.endpoint_id)).not.toContain(deaf.id);

		// A rolled-back change leaves no event behind.
		let rolledBack = "";
		await db
			.transaction(async (tx) => {
				rolledBack = (await enqueue(tx, { type: "license.created", orgId: a, data: {} })).eventId;
				throw new Error("roll back");
			})
			.catch(() => {});
		const [n] = await sql<
			[{ n: number }]
		>`select count(*)::int as n from webhook_outbox where event_id = ${rolledBack}`;
		expect(n.n).toBe(0);
		await deliverDue(db, { secrets, policy: dev });
	});
});

describe("delivery", () => {
	it("POSTs the payload signed with the endpoint's secret, which the receiver's verify accepts", async () => {
		const a = await org();
		const ep = await endpoint({ orgId: a, path: "/signed" });
		const { eventId } = await db.transaction((tx) =>
			enqueue(tx, { type: "license.created", orgId: a, data: { id: "lic_2", plan: "pro" } }),
		);
		const report = await deliverDue(db, { secrets, policy: dev });
		expect(report).toMatchObject({ delivered: 1, failed: 0, dead: 0 });
		const got = only(received.filter((r) => r.path === "/signed"));
		expect(await verifySignature(ep.secret, got.body, got.signature)).toMatchObject({ ok: true });
		expect(await verifySignature(newWebhookSecret(), got.body, got.signature)).toMatchObject({
			ok: false,
		});
		expect(JSON.parse(got.body)).toMatchObject({
			id: eventId,
			type: "license.created",
			org_id: a,
			data: { id: "lic_2", plan: "pro" },
		});
		expect(await row(eventId, ep.id)).toMatchObject({
			attempts: 1,
			last_status: 200,
			delivered: true,
		});
		// Delivered rows are never sent again.
		await deliverDue(db, { secrets, policy: dev });
		expect(received.filter((r) => r.path === "/signed")).toHaveLength(1);
	});

	it("signs under both secrets while a rotation's previous secret is live", async () => {
		const a = await org();
		const previous = newWebhookSecret();
		const ep = await endpoint({ orgId: a, path: "/rotating", previous });
		await db.transaction((tx) => enqueue(tx, { type: "license.created", orgId: a, data: {} }));
		await deliverDue(db, { secrets, policy: dev });
		const got = only(received);
		expect(got.signature.match(/v1=/g)).toHaveLength(2);
		expect((await verifySignature(ep.secret, got.body, got.signature)).ok).toBe(true);
		expect((await verifySignature(previous, got.body, got.signature)).ok).toBe(true);
	});

	it("stops signing with the previous secret once its overlap has passed", async () => {
		const a = await org();
		const previous = newWebhookSecret();
		const ep = await endpoint({ orgId: a, path: "/expired", previous });
		await sql`update webhook_endpoints set previous_expires_at = now() - interval '1 second' where id = ${ep.id}`;
		await db.transaction((tx) => enqueue(tx, { type: "license.created", orgId: a, data: {} }));
		await deliverDue(db, { secrets, policy: dev });
		const got = only(received);
		expect(got.signature.match(/v1=/g)).toHaveLength(1);
		expect((await verifySignature(ep.secret, got.body, got.signature)).ok).toBe(true);
		expect((await verifySignature(previous, got.body, got.signature)).ok).toBe(false);
	});

	it("signs with a secret stored in the clear before migration 0010, and seals it in place", async () => {
		const a = await org();
		const previous = newWebhookSecret();
		const ep = await endpoint({ orgId: a, path: "/legacy", previous, plaintext: true });
		await db.transaction((tx) => enqueue(tx, { type: "license.created", orgId: a, data: {} }));
		expect(await deliverDue(db, { secrets, policy: dev })).toMatchObject({ delivered: 1 });
		const got = only(received);
		expect((await verifySignature(ep.secret, got.body, got.signature)).ok).toBe(true);
		expect((await verifySignature(previous, got.body, got.signature)).ok).toBe(true);
		const [stored] = await sql<[{ current: string; previous: string }]>`
			select secret_current as current, secret_previous as previous
			from webhook_endpoints where id = ${ep.id}`;
		expect(stored.current).toMatch(/^v1\./);
		expect(stored.previous).toMatch(/^v1\./);
		expect(await secrets.open(ep.id, stored.current)).toEqual({ secret: ep.secret, legacy: false });
		expect(await secrets.open(ep.id, stored.previous)).toEqual({ secret: previous, legacy: false });
	});

	it("sends nothing when the stored secret does not open (tampered, another endpoint's, another pepper's)", async () => {
		const a = await org();
		const ep = await endpoint({ orgId: a, path: "/sealed-wrong" });
		const other = await endpoint({ orgId: a, path: "/other", events: ["activation.created"] });
		// Another endpoint's sealed secret copied over: the endpoint id is the associated data.
		await sql`update webhook_endpoints set secret_current =
			(select secret_current from webhook_endpoints where id = ${other.id}) where id = ${ep.id}`;
		const { eventId } = await db.transaction((tx) =>
			enqueue(tx, { type: "license.created", orgId: a, data: {} }),
		);
		expect(await deliverDue(db, { secrets, policy: dev })).toMatchObject({ failed: 1 });
		expect(
			await deliverDue(db, { secrets: endpointSecrets("another-pepper-entirely"), policy: dev }),
		).toMatchObject({ claimed: 0 });
		expect(received).toHaveLength(0);
		const [r] = await sql<[{ last_error: string }]>`select last_error from webhook_outbox
			where event_id = ${eventId} and endpoint_id = ${ep.id}`;
		expect(r.last_error).toBe("secret_unreadable");
	});

	it("retries a failing receiver after 1m, 5m, 30m, 2h, 12h, then gives the row up as dead", async () => {
		const a = await org();
		const ep = await endpoint({ orgId: a, path: "/flaky" });
		statusFor.set("/flaky", 500);
		const { eventId } = await db.transaction((tx) =>
			enqueue(tx, { type: "license.created", orgId: a, data: {} }),
		);
		const waits: number[] = [];
		for (let i = 1; i <= 5; i++) {
			expect(await deliverDue(db, { secrets, policy: dev })).toMatchObject({ failed: 1 });
			const r = await row(eventId, ep.id);
			expect(r).toMatchObject({ attempts: i, last_status: 500, delivered: false, dead: false });
			waits.push(r.wait);
			// Not due yet: a run now leaves it alone.
			expect(await deliverDue(db, { secrets, policy: dev })).toMatchObject({ claimed: 0 });
			await sql`update webhook_outbox set next_attempt_at = now() where event_id = ${eventId}`;
		}
		const expected = [60, 300, 1800, 7200, 43200];
		expected.forEach((e, i) => {
			expect(waits[i]).toBeGreaterThan(e - 30);
			expect(waits[i]).toBeLessThanOrEqual(e);
		});
		expect(await deliverDue(db, { secrets, policy: dev })).toMatchObject({ dead: 1 });
		expect(await row(eventId, ep.id)).toMatchObject({ attempts: 6, dead: true, delivered: false });
		expect(received.filter((r) => r.path === "/flaky")).toHaveLength(6);
	});

	it("delivers on a retry once the receiver recovers", async () => {
		const a = await org();
		const ep = await endpoint({ orgId: a, path: "/recovers" });
		statusFor.set("/recovers", 503);
		const { eventId } = await db.transaction((tx) =>
			enqueue(tx, { type: "license.created", orgId: a, data: {} }),
		);
		await deliverDue(db, { secrets, policy: dev });
		statusFor.delete("/recovers");
		await sql`update webhook_outbox set next_attempt_at = now() where event_id = ${eventId}`;
		expect(await deliverDue(db, { secrets, policy: dev })).toMatchObject({ delivered: 1 });
		expect(await row(eventId, ep.id)).toMatchObject({
			attempts: 2,
			last_status: 200,
			delivered: true,
		});
	});

	it("refuses to send to a loopback URL under the production policy", async () => {
		const a = await org();
		const ep = await endpoint({ orgId: a, path: "/prod" });
		const { eventId } = await db.transaction((tx) =>
			enqueue(tx, { type: "license.created", orgId: a, data: {} }),
		);
		expect(await deliverDue(db, { secrets })).toMatchObject({ failed: 1 });
		expect(received).toHaveLength(0);
		const [r] = await sql<[{ last_error: string }]>`select last_error from webhook_outbox
			where event_id = ${eventId} and endpoint_id = ${ep.id}`;
		expect(r.last_error).toBe("scheme_not_allowed");
		await sql`delete from webhook_outbox where event_id = ${eventId}`;
	});

	it("four runners at once deliver each of 60 events exactly once", async () => {
		const a = await org();
		await endpoint({ orgId: a, path: "/race" });
		const ids = new Set<string>();
		for (let i = 0; i < 60; i++) {
			const { eventId } = await db.transaction((tx) =>
				enqueue(tx, { type: "license.created", orgId: a, data: { n: i } }),
			);
			ids.add(eventId);
		}
		const runners = [0, 1, 2, 3].map(() => createDb(testSql()));
		try {
			const reports = await Promise.all(
				runners.map((r) => deliverDue(r, { secrets, policy: dev, batch: 20 })),
			);
			const more = await deliverDue(db, { secrets, policy: dev, batch: 100 });
			expect(reports.reduce((s, r) => s + r.delivered, 0) + more.delivered).toBe(60);
		} finally {
			await Promise.all(runners.map((r) => r.$client.end()));
		}
		const got = received
			.filter((r) => r.path === "/race")
			.map((r) => (JSON.parse(r.body) as { id: string }).id);
		expect(got).toHaveLength(60);
		expect(new Set(got)).toEqual(ids);
	});
});

describe("DNS rebinding: the Node entry's guarded fetch", () => {
	/** A resolver that knows only these names (none of them exists in real DNS). */
	const fakeDns =
		(zone: Record<string, string[]>): ResolveAll =>
		(hostname, callback) => {
			const answers = zone[hostname];
			if (!answers) {
				return callback(
					Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }),
					[],
				);
			}
			callback(
				null,
				answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
			);
		};
	const zone = fakeDns({
		"rebind.test": ["127.0.0.1"],
		"mixed.test": ["93.184.215.14", "10.0.0.5"],
		"metadata.test": ["169.254.169.254"],
	});
	const port = () => new URL(base).port;

	async function lastError(eventId: string, endpointId: string): Promise<string | null> {
		const [r] = await sql<[{ last_error: string | null }]>`select last_error from webhook_outbox
			where event_id = ${eventId} and endpoint_id = ${endpointId}`;
		return r.last_error;
	}

	it("refuses a public-looking name whose answer is loopback, private or metadata, before connecting", async () => {
		const a = await org();
		const eps = [];
		for (const host of ["rebind.test", "mixed.test", "metadata.test"]) {
			const ep = await endpoint({ orgId: a, path: `/${host}` });
			// Production rules: https, and the name passes the URL check (it is not an address).
			await sql`update webhook_endpoints set url = ${`https://${host}:${port()}/${host}`} where id = ${ep.id}`;
			eps.push(ep);
		}
		const { eventId } = await db.transaction((tx) =>
			enqueue(tx, { type: "license.created", orgId: a, data: {} }),
		);
		const report = await deliverDue(db, {
			secrets,
			fetch: guardedWebhookFetch(PRODUCTION_POLICY, zone),
		});
		expect(report).toMatchObject({ claimed: 3, failed: 3, delivered: 0 });
		expect(received).toHaveLength(0);
		for (const ep of eps) expect(await lastError(eventId, ep.id)).toBe("address_not_allowed");
	});

	it("connects to the address it checked: a name only the guard's resolver knows reaches the local receiver", async () => {
		const a = await org();
		const ep = await endpoint({ orgId: a, path: "/checked" });
		await sql`update webhook_endpoints set url = ${`http://rebind.test:${port()}/checked`} where id = ${ep.id}`;
		await db.transaction((tx) => enqueue(tx, { type: "license.created", orgId: a, data: {} }));
		// Dev rules let loopback through; the name resolves nowhere else, so arriving proves the
		// socket used the guard's answer and nothing resolved it a second time.
		const report = await deliverDue(db, {
			secrets,
			policy: dev,
			fetch: guardedWebhookFetch(dev, zone),
		});
		expect(report).toMatchObject({ delivered: 1 });
		const got = only(received);
		expect(got.path).toBe("/checked");
		expect((await verifySignature(ep.secret, got.body, got.signature)).ok).toBe(true);
	});

	it("resolves real names with the system resolver: localhost is loopback, allowed by dev rules only", async () => {
		const a = await org();
		const ep = await endpoint({ orgId: a, path: "/localhost" });
		await sql`update webhook_endpoints set url = ${`http://localhost:${port()}/localhost`} where id = ${ep.id}`;
		await db.transaction((tx) => enqueue(tx, { type: "license.created", orgId: a, data: {} }));
		expect(
			await deliverDue(db, { secrets, policy: dev, fetch: guardedWebhookFetch(dev) }),
		).toMatchObject({
			delivered: 1,
		});
		expect(only(received).path).toBe("/localhost");
		// The guard on its own, without the URL check in front: the system's answer for
		// localhost is refused when loopback is not allowed.
		const lookup = guardedLookup({ httpsOnly: false, allowLoopback: false });
		const err = await new Promise<unknown>((done) => lookup("localhost", {}, (e) => done(e)));
		expect(err).toBeInstanceOf(AddressNotAllowedError);
	});
});

// Last in the file: its operator endpoint hears every event, other files' included.
describe("the license and activation paths", () => {
	let server: RunningServer;
	beforeAll(async () => {
		server = await nodeServer();
	});
	afterAll(async () => {
		closeAgents();
		await server.close();
	});

	it("enqueue license.created, activation.created/removed, license.updated, license.suspended/revoked in their own transactions", async () => {
		const ep = await endpoint({
			orgId: null,
			path: "/wired",
			events: [
				"license.created",
				"license.updated",
				"license.suspended",
				"license.revoked",
				"activation.created",
				"activation.removed",
			],
		});
		try {
			const { key, id } = await createLicense(server.url);
			const act = await http<{ activation: { id: string } }>(
				`${server.url}/api/v1/licenses/activate`,
				{
					json: { license_key: key, hardware_id: "hw-webhooks-1", hostname: "box" },
				},
			);
			expect(act.status).toBe(201);
			const off = await http(`${server.url}/api/v1/licenses/deactivate`, {
				json: { license_key: key, hardware_id: "hw-webhooks-1" },
			});
			expect(off.status).toBe(200);
			// An edit that changes nothing writes no event; one that does writes one.
			for (const max of [7, 7]) {
				const edit = await http(`${server.url}/api/v1/admin/licenses/${id}`, {
					method: "PATCH",
					json: { max_activations: max },
					admin: true,
				});
				expect(edit.status).toBe(200);
			}
			for (const action of ["suspend", "suspend", "reinstate", "revoke"]) {
				const res = await http(`${server.url}/api/v1/admin/licenses/${id}/${action}`, {
					json: {},
					admin: true,
				});
				expect(res.status, action).toBe(200);
			}
			const events = await sql<Array<{ event_type: string; org_id: string | null }>>`
				select event_type, payload->>'org_id' as org_id from webhook_outbox
				where endpoint_id = ${ep.id}
					and (payload->'data'->>'id' = ${id} or payload->'data'->>'license_id' = ${id})
				order by created_at, event_type`;
			expect(events.map((e) => e.event_type)).toEqual([
				"license.created",
				"activation.created",
				"activation.removed",
				"license.updated",
				"license.suspended",
				"license.revoked",
			]);
			expect(events.every((e) => e.org_id === null)).toBe(true);
		} finally {
			// Disabled, not deleted: another file's enqueue may be inserting a row for it right now,
			// and a deleted endpoint would fail that insert's foreign key (a 500 there).
			await sql`update webhook_endpoints set disabled_at = now() where id = ${ep.id}`;
			await sql`delete from webhook_outbox where endpoint_id = ${ep.id}`;
		}
	});
});

describe("seat events outside an org's reach", () => {
	it("queue seat.assigned for the owner's first seat when an org is made; only operator endpoints hear it", async () => {
		const server = await nodeServer({ env: { PUBLIC_URL: "http://hooks.node.test" } });
		try {
			const ep = await endpoint({ orgId: null, path: "/seats", events: ["seat.assigned"] });
			// A verified user with a session, made in the database (no Argon2, no mail).
			const userId = newId("usr");
			const family = newId("rtf");
			const email = `hooks-${userId.slice(4, 14)}@example.test`;
			await sql`insert into users (id, email, email_verified_at) values (${userId}, ${email}, now())`;
			await sql`insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
				values (${newId("rtk")}, ${userId}, ${family}, ${crypto.randomUUID()}, now() + interval '1 day')`;
			const token = await signAccessToken(
				await importJwtSecret(inject("jwtSecret")),
				"http://hooks.node.test",
				{ userId, email, sessionId: family },
			);
			const made = await http<{ id: string }>(`${server.url}/api/v1/orgs`, {
				json: { name: "Seats Inc" },
				headers: { authorization: `Bearer ${token}` },
			});
			expect(made.status, made.text).toBe(201);
			const [seat] = await sql<[{ id: string }]>`
				select id from org_members where org_id = ${made.body.id}`;
			const events = await sql<Array<{ payload: Record<string, unknown> }>>`
				select payload from webhook_outbox where endpoint_id = ${ep.id}
					and payload->>'org_id' = ${made.body.id}`;
			expect(events.map((e) => e.payload)).toEqual([
				expect.objectContaining({
					type: "seat.assigned",
					org_id: made.body.id,
					data: {
						seat_id: seat?.id,
						org_id: made.body.id,
						user_id: userId,
						role: "owner",
						via: "org_created",
					},
				}),
			]);
		} finally {
			closeAgents();
			await server.close();
		}
	});
});

describe("the Node server's delivery timer", () => {
	it("refuses WEBHOOK_DEV_URLS with NODE_ENV=production", async () => {
		await expect(nodeServer({ env: { WEBHOOK_DEV_URLS: "true" } })).rejects.toThrow(
			/WEBHOOK_DEV_URLS/,
		);
	});

	it("sends a license.created event on its own, signed, to an org's endpoint", async () => {
		const server = await nodeServer({
			env: { NODE_ENV: "test", WEBHOOK_DEV_URLS: "true", WEBHOOK_DELIVERY_SECONDS: "1" },
		});
		try {
			const a = await org();
			const ep = await endpoint({ orgId: a, path: "/timer" });
			const { id } = await createLicense(server.url, { plan: "team", org_id: a });
			let got: Received | undefined;
			for (let i = 0; i < 100 && !got; i++) {
				await new Promise((ok) => setTimeout(ok, 100));
				got = received.find((r) => r.path === "/timer");
			}
			if (!got)
				throw new Error(
					`no delivery within 10 s: ${JSON.stringify(await sql`select o.attempts, o.last_error, o.event_type from webhook_outbox o where endpoint_id = ${ep.id}`)}`,
				);
			expect(await verifySignature(ep.secret, got.body, got.signature)).toMatchObject({ ok: true });
			expect(JSON.parse(got.body)).toMatchObject({
				type: "license.created",
				org_id: a,
				data: { id },
			});
		} finally {
			closeAgents();
			await server.close();
		}
	});
});
