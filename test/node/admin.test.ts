/**
 * The operator's JSON API on the Node entry (real server, postgres.js pool, the run's
 * database): license search, an edit and its audit row, audit paging, invite batches, and
 * bad input answered 400 with the error body.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningServer } from "../../src/server";
import { closeAgents, createLicense, http, nodeServer, testSql } from "./support";

let server: RunningServer;
const sql = testSql();

beforeAll(async () => {
	server = await nodeServer();
}, 60_000);

afterAll(async () => {
	closeAgents();
	await server?.close();
	await sql.end();
});

const admin = (path: string, opts: { method?: string; json?: unknown } = {}) =>
	http<Record<string, unknown>>(`${server.url}/api/v1/admin${path}`, { ...opts, admin: true });
const email = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}@node-admin.test`;

interface LicensePage {
	licenses: Array<{ id: string; plan: string; key_last4: string; owner_email: string | null }>;
	next_cursor: string | null;
}

describe("GET /api/v1/admin/licenses on Node", () => {
	it("finds licenses by email, key last 4 and status, never showing a key", async () => {
		const owner = email("search");
		const a = await createLicense(server.url, { plan: "starter", owner_email: owner });
		const b = await createLicense(server.url, { owner_email: owner });
		await admin(`/licenses/${b.id}/suspend`, { method: "POST" });

		const byEmail = await admin(`/licenses?email=${encodeURIComponent(owner.toUpperCase())}`);
		expect(byEmail.status, byEmail.text).toBe(200);
		const page = byEmail.body as unknown as LicensePage;
		expect(page.licenses.map((l) => l.id)).toEqual([b.id, a.id]);
		expect(byEmail.text).not.toContain(a.key);

		const byKey = await admin(
			`/licenses?key_last4=${a.key.slice(-4).toLowerCase()}&email=${encodeURIComponent(owner)}`,
		);
		expect((byKey.body as unknown as LicensePage).licenses.map((l) => l.id)).toEqual([a.id]);
		const suspended = await admin(`/licenses?status=suspended&email=${encodeURIComponent(owner)}`);
		expect((suspended.body as unknown as LicensePage).licenses.map((l) => l.id)).toEqual([b.id]);
	});

	it("answers bad filters 400 naming the field, never 500", async () => {
		for (const [query, field] of [
			["status=dormant", "status"],
			["limit=0", "limit"],
			["key_last4=abc", "key_last4"],
			["cursor=not-a-cursor", "cursor"],
			["color=blue", "color"],
		] as const) {
			const res = await admin(`/licenses?${query}`);
			expect(res.status, query).toBe(400);
			expect(res.body.error).toMatchObject({ code: "INVALID_REQUEST", fields: [field] });
		}
	});
});

describe("PATCH /api/v1/admin/licenses/:id on Node", () => {
	it("changes plan, limit, expiry and owner, and audits old and new values", async () => {
		const first = email("first");
		const second = email("second");
		const { id, key } = await createLicense(server.url, {
			plan: "starter",
			owner_email: first,
			max_activations: 2,
		});
		const expires = new Date(Date.now() + 90 * 86_400_000).toISOString();
		const res = await admin(`/licenses/${id}`, {
			method: "PATCH",
			json: { plan: "professional", max_activations: 9, expires_at: expires, owner_email: second },
		});
		expect(res.status, res.text).toBe(200);
		expect(res.body.license).toMatchObject({ plan: "professional", max_activations: 9 });

		const rows = await sql<{ detail: Record<string, unknown> }[]>`
			select detail from audit_logs where license_id = ${id} and action = 'license_update'`;
		expect(rows.map((r) => r.detail)).toEqual([
			{
				changes: {
					plan: { from: "starter", to: "professional" },
					max_activations: { from: 2, to: 9 },
					expires_at: { from: null, to: expires },
					owner: { from: first, to: second },
				},
			},
		]);
		expect(JSON.stringify(rows)).not.toContain(key);
	});

	it("answers bad bodies with 400/415 and an unknown license with 404, auditing nothing", async () => {
		const { id } = await createLicense(server.url);
		for (const json of [{}, { max_activations: -1 }, { plan: 3 }, { color: "blue" }]) {
			const res = await admin(`/licenses/${id}`, { method: "PATCH", json });
			expect(res.status, JSON.stringify(json)).toBe(400);
		}
		const form = await fetch(`${server.url}/api/v1/admin/licenses/${id}`, {
			method: "PATCH",
			headers: {
				"content-type": "application/x-www-form-urlencoded",
				authorization: `Bearer ${inject("adminToken")}`,
			},
			body: "plan=starter",
		});
		expect(form.status).toBe(415);
		const malformed = await fetch(`${server.url}/api/v1/admin/licenses/${id}`, {
			method: "PATCH",
			headers: {
				"content-type": "application/json",
				authorization: `Bearer ${inject("adminToken")}`,
			},
			body: "{plan:",
		});
		expect(malformed.status).toBe(400);
		const missing = await admin("/licenses/lic_00000000000000000000", {
			method: "PATCH",
			json: { max_activations: 2 },
		});
		expect(missing.status).toBe(404);
		const audited = await sql`
			select 1 from audit_logs where license_id = ${id} and action = 'license_update'`;
		expect(audited).toHaveLength(0);
	});
});

describe("GET /api/v1/admin/audit on Node", () => {
	interface Events {
		events: Array<{ id: string; action: string; license_id: string | null }>;
		next_cursor: string | null;
	}
	it("filters by license, newest first, and pages each event once", async () => {
		const { id } = await createLicense(server.url, { plan: "starter" });
		for (const action of ["suspend", "reinstate", "suspend", "reinstate"]) {
			const res = await admin(`/licenses/${id}/${action}`, { method: "POST" });
			expect(res.status, res.text).toBe(200);
		}
		const all = (await admin(`/audit?license_id=${id}`)).body as unknown as Events;
		expect(all.events.map((e) => e.action)).toEqual([
			...Array(4).fill("license_status_change"),
			"license_create",
		]);
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const res = await admin(
				`/audit?license_id=${id}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
			);
			expect(res.status, res.text).toBe(200);
			const page = res.body as unknown as Events;
			seen.push(...page.events.map((e) => e.id));
			cursor = page.next_cursor;
			pages++;
		} while (cursor && pages < 10);
		expect(pages).toBe(3);
		expect(seen).toEqual(all.events.map((e) => e.id));
	});
});

describe("invite batches on Node", () => {
	it("lists a new batch with its label and each code by its last 4 only", async () => {
		const made = await admin("/invites", { json: { count: 3, label: "node batch" } });
		expect(made.status, made.text).toBe(201);
		const { batch_id, codes } = made.body as { batch_id: string; codes: string[] };
		const batch = await admin(`/invites/${batch_id}`);
		expect(batch.status, batch.text).toBe(200);
		expect(batch.body).toMatchObject({ id: batch_id, label: "node batch", codes: 3, used: 0 });
		const last4 = (batch.body.invites as Array<{ code_last4: string }>).map((i) => i.code_last4);
		expect(last4.sort()).toEqual(codes.map((c) => c.slice(-4)).sort());
		for (const code of codes) expect(batch.text).not.toContain(code);
		const list = await admin("/invites?limit=5");
		expect((list.body.batches as Array<{ id: string }>).map((b) => b.id)).toContain(batch_id);
	});
});
