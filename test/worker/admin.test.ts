/** GET /api/v1/admin/licenses: the operator's search, through the Worker on the run's database. */
import { describe, expect, it } from "vitest";
import { sql } from "../support/database";
import {
	call,
	createLicense,
	hardwareId,
	randomEmail,
	randomIp,
	verificationCode,
} from "../support/worker-client";

interface Page {
	licenses: Array<{
		id: string;
		plan: string;
		status: string;
		key_last4: string;
		owner_email: string | null;
		owner: { id: string; email: string } | null;
		stripe_customer_id: string | null;
	}>;
	next_cursor: string | null;
}

async function search(query: string) {
	return call<Page>(`/api/v1/admin/licenses?${query}`, { admin: true });
}

describe("GET /api/v1/admin/licenses", () => {
	it("finds licenses by email substring, key last 4, status, plan and Stripe customer", async () => {
		const email = randomEmail("search");
		const a = await createLicense({ plan: "starter", owner_email: email });
		const b = await createLicense({ plan: "professional", owner_email: email });
		await call(`/api/v1/admin/licenses/${b.id}/suspend`, { method: "POST", admin: true });
		const byEmail = await search(`email=${encodeURIComponent(email.slice(0, 15).toUpperCase())}`);
		expect(byEmail.status, byEmail.text).toBe(200);
		expect(byEmail.body.licenses.map((l) => l.id)).toEqual([b.id, a.id]);
		expect(byEmail.body.licenses[0]?.owner_email).toBe(email);

		const last4 = a.key.slice(-4);
		const byKey = await search(
			`key_last4=${last4.toLowerCase()}&email=${encodeURIComponent(email)}`,
		);
		expect(byKey.body.licenses.map((l) => l.id)).toEqual([a.id]);

		const suspended = await search(`status=suspended&email=${encodeURIComponent(email)}`);
		expect(suspended.body.licenses.map((l) => l.id)).toEqual([b.id]);
		const starter = await search(`plan=starter&email=${encodeURIComponent(email)}`);
		expect(starter.body.licenses.map((l) => l.id)).toEqual([a.id]);

		const customer = `cus_${crypto.randomUUID().replace(/-/g, "")}`;
		await sql("update licenses set stripe_customer_id = $1 where id = $2", [customer, a.id]);
		const byCustomer = await search(`stripe_customer_id=${customer}`);
		expect(byCustomer.body.licenses.map((l) => [l.id, l.stripe_customer_id])).toEqual([
			[a.id, customer],
		]);
		// Never a key or its hash: only the last 4.
		expect(byEmail.text).not.toContain(a.key);
		expect(byEmail.text).not.toContain("key_hash");
	});

	it("pages with a cursor, each license once, until next_cursor is null", async () => {
		const email = randomEmail("paging");
		const made: string[] = [];
		for (let i = 0; i < 5; i++) made.push((await createLicense({ owner_email: email })).id);
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const res: Awaited<ReturnType<typeof search>> = await search(
				`email=${encodeURIComponent(email)}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
			);
			expect(res.status, res.text).toBe(200);
			expect(res.body.licenses.length).toBeLessThanOrEqual(2);
			seen.push(...res.body.licenses.map((l) => l.id));
			cursor = res.body.next_cursor;
			pages++;
		} while (cursor && pages < 10);
		expect(pages).toBe(3);
		expect(seen).toEqual([...made].reverse());
	});

	it("answers bad filters, limits and cursors with 400 naming the field", async () => {
		for (const [query, field] of [
			["limit=0", "limit"],
			["limit=201", "limit"],
			["limit=abc", "limit"],
			["status=gone", "status"],
			["key_last4=12345", "key_last4"],
			["cursor=bm90LWEtY3Vyc29y", "cursor"],
			["cursor=%25%25%25", "cursor"],
			["unknown=1", "unknown"],
		] as const) {
			const res = await call<{ error: { code: string; fields: string[] } }>(
				`/api/v1/admin/licenses?${query}`,
				{ admin: true },
			);
			expect(res.status, `${query}: ${res.text}`).toBe(400);
			expect(res.body.error.fields, query).toContain(field);
		}
	});

	it("is the operator's alone", async () => {
		const res = await call<{ error: { code: string } }>("/api/v1/admin/licenses");
		expect(res.status).toBe(401);
	});
});

describe("PATCH /api/v1/admin/licenses/:id", () => {
	it("changes plan, limit, expiry and owner, audited with each field's old and new value", async () => {
		const first = randomEmail("first");
		const second = randomEmail("second");
		const { id, key } = await createLicense({ plan: "starter", owner_email: first });
		const expires = new Date(Date.now() + 30 * 86_400_000).toISOString();
		const res = await call<{
			license: { plan: string; max_activations: number; expires_at: string };
		}>(`/api/v1/admin/licenses/${id}`, {
			method: "PATCH",
			json: { plan: "professional", max_activations: 9, expires_at: expires, owner_email: second },
			admin: true,
		});
		expect(res.status, res.text).toBe(200);
		expect(res.body.license).toMatchObject({
			plan: "professional",
			max_activations: 9,
			expires_at: expires,
		});
		const found = await search(`email=${encodeURIComponent(second)}`);
		expect(found.body.licenses.map((l) => [l.id, l.plan, l.owner_email])).toEqual([
			[id, "professional", second],
		]);
		const rows = await sql<{ detail: Record<string, unknown> }>(
			"select detail from audit_logs where license_id = $1 and action = 'license_update'",
			[id],
		);
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

		// Perpetual again; the validate path sees the new limit at once.
		const back = await call<{ license: { expires_at: string | null } }>(
			`/api/v1/admin/licenses/${id}`,
			{
				method: "PATCH",
				json: { expires_at: null },
				admin: true,
			},
		);
		expect(back.body.license.expires_at).toBeNull();
	});

	it("answers bad edits with 4xx and writes nothing", async () => {
		const { id } = await createLicense({ plan: "starter" });
		for (const [json, status, field] of [
			[{}, 400, "(body)"],
			[{ plan: "nope" }, 400, "plan"],
			[{ plan: "team" }, 400, "plan"],
			[{ expires_at: "2001-01-01T00:00:00Z" }, 400, "expires_at"],
			[{ max_activations: -1 }, 400, "max_activations"],
			[{ owner_email: "not-an-email" }, 400, "owner_email"],
		] as const) {
			const res = await call<{ error: { fields: string[] } }>(`/api/v1/admin/licenses/${id}`, {
				method: "PATCH",
				json,
				admin: true,
			});
			expect(res.status, `${JSON.stringify(json)}: ${res.text}`).toBe(status);
			expect(res.body.error.fields, JSON.stringify(json)).toContain(field);
		}
		const missing = await call("/api/v1/admin/licenses/lic_missing", {
			method: "PATCH",
			json: { max_activations: 2 },
			admin: true,
		});
		expect(missing.status).toBe(404);
		const audited = await sql(
			"select 1 from audit_logs where license_id = $1 and action = 'license_update'",
			[id],
		);
		expect(audited).toEqual([]);
	});
});

describe("GET /api/v1/admin/audit", () => {
	interface Events {
		events: Array<{ id: string; action: string; result: string; license_id: string | null }>;
		next_cursor: string | null;
	}
	it("filters by license and action, newest first, and pages with a cursor", async () => {
		const { id } = await createLicense({ plan: "starter" });
		for (const action of ["suspend", "reinstate", "suspend"]) {
			const res = await call(`/api/v1/admin/licenses/${id}/${action}`, {
				method: "POST",
				admin: true,
			});
			expect(res.status, res.text).toBe(200);
		}
		const all = await call<Events>(`/api/v1/admin/audit?license_id=${id}`, { admin: true });
		expect(all.status, all.text).toBe(200);
		expect(all.body.events.map((e) => [e.action, e.result])).toEqual([
			["license_status_change", "suspended"],
			["license_status_change", "active"],
			["license_status_change", "suspended"],
			["license_create", "success"],
		]);
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const page: { body: Events } = await call<Events>(
				`/api/v1/admin/audit?license_id=${id}&action=license_status_change&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
				{ admin: true },
			);
			seen.push(...page.body.events.map((e) => e.id));
			cursor = page.body.next_cursor;
		} while (cursor);
		expect(seen).toEqual(all.body.events.slice(0, 3).map((e) => e.id));
	});

	it("masks detail keys that would name a secret", async () => {
		const { id } = await createLicense({ plan: "starter" });
		await sql(
			`insert into audit_logs (id, action, result, license_id, detail) values ($1, 'license_update', 'success', $2, '{"password":"hunter2","nested":{"api_token":"t0ken"},"plan":"starter"}')`,
			[`aud_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`, id],
		);
		const res = await call<Events>(`/api/v1/admin/audit?license_id=${id}&action=license_update`, {
			admin: true,
		});
		expect(res.status, res.text).toBe(200);
		expect(res.text).not.toMatch(/hunter2|t0ken/);
		expect(res.text).toContain('"plan":"starter"');
	});

	it("answers bad filters with 400 naming the field", async () => {
		for (const [query, field] of [
			["since=yesterday", "since"],
			["limit=500", "limit"],
			["cursor=xyz", "cursor"],
			["password=1", "password"],
		] as const) {
			const res = await call<{ error: { fields: string[] } }>(`/api/v1/admin/audit?${query}`, {
				admin: true,
			});
			expect(res.status, `${query}: ${res.text}`).toBe(400);
			expect(res.body.error.fields, query).toContain(field);
		}
	});
});

describe("GET /api/v1/admin/users and /orgs", () => {
	it("finds a user by email with their license count, never a password hash", async () => {
		const email = randomEmail("dir");
		await sql(
			"insert into users (id, email, password_hash) values ($1, $2, '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA')",
			[`usr_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`, email],
		);
		await createLicense({ plan: "starter", owner_email: email });
		const res = await call<{
			users: Array<{ email: string; licenses: number; has_password: boolean }>;
		}>(`/api/v1/admin/users?email=${encodeURIComponent(email.toUpperCase())}`, { admin: true });
		expect(res.status, res.text).toBe(200);
		expect(res.body.users).toEqual([
			expect.objectContaining({ email, licenses: 1, has_password: true }),
		]);
		expect(res.text).not.toContain("argon2");
	});

	it("finds an org by name, any case, with its members and licenses", async () => {
		const name = `Dir ${crypto.randomUUID().slice(0, 8)}`;
		const orgId = `org_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
		await sql("insert into orgs (id, name) values ($1, $2)", [orgId, name]);
		const res = await call<{ orgs: Array<{ id: string; members: number; license_ids: string[] }> }>(
			`/api/v1/admin/orgs?name=${encodeURIComponent(name.toLowerCase())}`,
			{ admin: true },
		);
		expect(res.status, res.text).toBe(200);
		expect(res.body.orgs).toEqual([
			expect.objectContaining({ id: orgId, members: 0, license_ids: [] }),
		]);
		const bad = await call("/api/v1/admin/orgs?limit=0", { admin: true });
		expect(bad.status).toBe(400);
	});
});

describe("GET /api/v1/admin/activations and invite auditing", () => {
	it("lists a license's machines, held and freed", async () => {
		const { id, key } = await createLicense({ plan: "professional" });
		const [one, two] = [hardwareId(), hardwareId()];
		for (const hw of [one, two]) {
			const res = await call("/api/v1/licenses/activate", {
				json: { license_key: key, hardware_id: hw },
			});
			expect(res.status, res.text).toBe(201);
		}
		await call("/api/v1/licenses/deactivate", { json: { license_key: key, hardware_id: one } });
		type Acts = {
			activations: Array<{
				hardware_id: string;
				license_id: string;
				deactivated_at: string | null;
			}>;
		};
		const all = await call<Acts>(`/api/v1/admin/activations?license_id=${id}`, { admin: true });
		expect(all.status, all.text).toBe(200);
		expect(all.body.activations.map((a) => a.hardware_id)).toEqual([two, one]);
		const held = await call<Acts>(`/api/v1/admin/activations?license_id=${id}&active=true`, {
			admin: true,
		});
		expect(held.body.activations.map((a) => [a.hardware_id, a.deactivated_at])).toEqual([
			[two, null],
		]);
		const bad = await call(`/api/v1/admin/activations?active=maybe`, { admin: true });
		expect(bad.status).toBe(400);
	});

	it("audits invite creation with the count and batch, never the codes", async () => {
		const res = await call<{ batch_id: string; label: string | null; codes: string[] }>(
			"/api/v1/admin/invites",
			{ json: { count: 3, label: "  launch week " }, admin: true },
		);
		expect(res.status, res.text).toBe(201);
		expect(res.body.batch_id).toMatch(/^ivb_[0-9a-z]{20}$/);
		expect(res.body.label).toBe("launch week");
		const rows = await sql<{ detail: Record<string, unknown> }>(
			"select detail from audit_logs where action = 'invites_created' and detail->>'batch_id' = $1",
			[res.body.batch_id],
		);
		expect(rows.map((r) => r.detail)).toEqual([
			{ count: 3, batch_id: res.body.batch_id, label: "launch week" },
		]);
		for (const code of res.body.codes) expect(JSON.stringify(rows)).not.toContain(code);
	});
});

interface BatchDetail {
	id: string;
	label: string | null;
	codes: number;
	used: number;
	invites: Array<{
		code_last4: string | null;
		used_by: { id: string; email: string } | null;
		used_at: string | null;
	}>;
}

describe("invite batches", () => {
	it("say who used which code, by its last 4 characters, never the code", async () => {
		const made = await call<{ batch_id: string; codes: string[] }>("/api/v1/admin/invites", {
			json: { count: 2, label: "batch test" },
			admin: true,
		});
		expect(made.status, made.text).toBe(201);
		const [used, unused] = made.body.codes as [string, string];
		const email = randomEmail("invited");
		const signup = await call("/api/v1/auth/signup", {
			json: { email, password: "a fine password", invite_code: used },
			ip: randomIp(),
		});
		expect(signup.status, signup.text).toBe(202);
		const verify = await call<{ user: { id: string } }>("/api/v1/auth/verify", {
			json: { email, code: await verificationCode(email) },
			ip: randomIp(),
		});
		expect(verify.status, verify.text).toBe(200);

		const batch = await call<BatchDetail>(`/api/v1/admin/invites/${made.body.batch_id}`, {
			admin: true,
		});
		expect(batch.status, batch.text).toBe(200);
		expect(batch.body).toMatchObject({
			id: made.body.batch_id,
			label: "batch test",
			codes: 2,
			used: 1,
		});
		expect(batch.body.invites).toEqual([
			{
				code_last4: used.slice(-4),
				used_by: { id: verify.body.user.id, email },
				used_at: expect.any(String),
			},
			{ code_last4: unused.slice(-4), used_by: null, used_at: null },
		]);
		for (const code of made.body.codes) {
			expect(batch.text).not.toContain(code);
			expect(batch.text).not.toContain(code.replace(/-/g, ""));
		}

		const list = await call<{ batches: Array<{ id: string; used: number; codes: number }> }>(
			"/api/v1/admin/invites?limit=200",
			{ admin: true },
		);
		expect(list.status, list.text).toBe(200);
		expect(list.body.batches.find((b) => b.id === made.body.batch_id)).toMatchObject({
			codes: 2,
			used: 1,
		});
	});

	it("answers an unknown batch 404 and a malformed id or label 400", async () => {
		const unknown = await call<{ error: { code: string } }>(
			"/api/v1/admin/invites/ivb_00000000000000000000",
			{ admin: true },
		);
		expect(unknown.status).toBe(404);
		expect(unknown.body.error.code).toBe("NOT_FOUND");
		expect((await call("/api/v1/admin/invites/nope", { admin: true })).status).toBe(400);
		for (const json of [
			{ count: 1, label: "" },
			{ count: 1, label: "x".repeat(101) },
			{ count: 1, label: 3 },
		]) {
			expect((await call("/api/v1/admin/invites", { json, admin: true })).status).toBe(400);
		}
		expect((await call("/api/v1/admin/invites?cursor=bogus", { admin: true })).status).toBe(400);
		expect((await call("/api/v1/admin/invites/ivb_00000000000000000000")).status).toBe(401);
	});
});
