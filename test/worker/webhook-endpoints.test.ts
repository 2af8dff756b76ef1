/** An org's outbound webhook endpoints through the Worker on the run's Postgres: who may see
 * what, the secret shown once (answers and audit log), rotation's overlap, disabling without
 * deleting, the delivery list, and the URL and event checks. */
import { describe, expect, inject, it } from "vitest";
import { endpointSecrets } from "../../src/webhooks/secrets";
import { sql } from "../support/database";
import {
	bearer,
	call,
	createLicense,
	hardwareId,
	newUser,
	type Session,
} from "../support/worker-client";

type Json = Record<string, unknown>;
const secrets = endpointSecrets(inject("pepper"));
interface Endpoint {
	id: string;
	org_id: string;
	url: string;
	events: string[];
	disabled_at: string | null;
	previous_secret_expires_at: string | null;
}

async function orgOfNewOwner(): Promise<{ orgId: string; owner: Session }> {
	const owner = await newUser();
	const org = await call<{ id: string }>("/api/v1/orgs", {
		json: { name: "Hooks Inc" },
		headers: bearer(owner.session.access_token),
	});
	expect(org.status).toBe(201);
	return { orgId: org.body.id, owner: owner.session };
}

async function register(orgId: string, who: Session, body: Json = {}) {
	return call<{ endpoint: Endpoint; secret: string; error: Json }>(
		`/api/v1/orgs/${orgId}/webhooks`,
		{
			json: { url: "https://hooks.example.com/in", events: ["license.created"], ...body },
			headers: bearer(who.access_token),
		},
	);
}

describe("org webhook endpoints", () => {
	it("answers the secret once on create, never in the list, and audits without it", async () => {
		const { orgId, owner } = await orgOfNewOwner();
		const made = await register(orgId, owner, {
			url: "https://Hooks.Example.com/in",
			events: ["license.created", "activation.removed"],
		});
		expect(made.status).toBe(201);
		expect(made.body.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
		expect(made.body.endpoint).toMatchObject({
			org_id: orgId,
			url: "https://hooks.example.com/in",
			events: ["license.created", "activation.removed"],
			disabled_at: null,
			previous_secret_expires_at: null,
		});
		expect(made.body.endpoint.id).toMatch(/^whe_/);

		const list = await call<{ endpoints: Endpoint[] }>(`/api/v1/orgs/${orgId}/webhooks`, {
			headers: bearer(owner.access_token),
		});
		expect(list.status).toBe(200);
		expect(list.body.endpoints.map((e) => e.id)).toEqual([made.body.endpoint.id]);
		expect(list.text).not.toContain(made.body.secret);
		expect(list.text).not.toContain("whsec_");

		const stored = await sql<{ secret_current: string }>(
			"select secret_current from webhook_endpoints where id = $1",
			[made.body.endpoint.id],
		);
		// At rest the secret is sealed (AES-GCM under the pepper's webhook key, the endpoint id as
		// associated data): the column never holds it in the clear.
		const sealed = stored[0]?.secret_current ?? "";
		expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
		expect(sealed).not.toContain(made.body.secret.slice(6, 20));
		expect(await secrets.open(made.body.endpoint.id, sealed)).toEqual({
			secret: made.body.secret,
			legacy: false,
		});
		expect(await secrets.open("whe_someoneelse", sealed)).toBeNull();
		const audit = await sql<{ action: string; detail: string }>(
			"select action, detail::text as detail from audit_logs where user_id = $1 and action like 'webhook_%' order by at, id",
			[owner.user.id],
		);
		expect(audit.map((a) => a.action)).toEqual(["webhook_endpoint_created"]);
		expect(audit[0]?.detail).toContain(made.body.endpoint.id);
		expect(audit[0]?.detail).not.toContain("whsec_");
	});

	it("rotates: a new secret once, the old one kept as previous for 24 hours", async () => {
		const { orgId, owner } = await orgOfNewOwner();
		const made = await register(orgId, owner);
		const wid = made.body.endpoint.id;
		const rotated = await call<{ endpoint: Endpoint; secret: string }>(
			`/api/v1/orgs/${orgId}/webhooks/${wid}/rotate-secret`,
			{ method: "POST", json: {}, headers: bearer(owner.access_token) },
		);
		expect(rotated.status).toBe(200);
		expect(rotated.body.secret).toMatch(/^whsec_/);
		expect(rotated.body.secret).not.toBe(made.body.secret);
		const until = Date.parse(rotated.body.endpoint.previous_secret_expires_at ?? "");
		expect(until - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
		expect(until - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
		const [row] = await sql<{ secret_current: string; secret_previous: string }>(
			"select secret_current, secret_previous from webhook_endpoints where id = $1",
			[wid],
		);
		expect(await secrets.open(wid, row?.secret_current ?? "")).toMatchObject({
			secret: rotated.body.secret,
		});
		expect(await secrets.open(wid, row?.secret_previous ?? "")).toMatchObject({
			secret: made.body.secret,
		});
		const list = await call(`/api/v1/orgs/${orgId}/webhooks`, {
			headers: bearer(owner.access_token),
		});
		expect(list.text).not.toContain("whsec_");
		const audit = await sql<{ action: string; detail: string }>(
			"select action, detail::text as detail from audit_logs where user_id = $1 and action = 'webhook_secret_rotated'",
			[owner.user.id],
		);
		expect(audit).toHaveLength(1);
		expect(audit[0]?.detail).not.toContain("whsec_");
	});

	it("disables without deleting: the row stays, no new events, idempotent, rotate refused", async () => {
		const { orgId, owner } = await orgOfNewOwner();
		const wid = (await register(orgId, owner, { events: ["activation.created"] })).body.endpoint.id;
		const license = await createLicense({ plan: "team" });
		await sql("update licenses set org_id = $1 where id = $2", [orgId, license.id]);
		const activate = async () => {
			const res = await call("/api/v1/licenses/activate", {
				json: { license_key: license.key, hardware_id: hardwareId() },
			});
			expect(res.status).toBe(201);
		};
		const queued = async () =>
			(await sql("select event_id from webhook_outbox where endpoint_id = $1", [wid])).length;
		await activate();
		expect(await queued()).toBe(1);
		for (let i = 0; i < 2; i++) {
			const gone = await call(`/api/v1/orgs/${orgId}/webhooks/${wid}`, {
				method: "DELETE",
				headers: bearer(owner.access_token),
			});
			expect(gone.status).toBe(204);
		}
		const [row] = await sql<{ disabled: boolean }>(
			"select disabled_at is not null as disabled from webhook_endpoints where id = $1",
			[wid],
		);
		expect(row?.disabled).toBe(true);
		await activate();
		expect(await queued()).toBe(1);
		const list = await call<{ endpoints: Endpoint[] }>(`/api/v1/orgs/${orgId}/webhooks`, {
			headers: bearer(owner.access_token),
		});
		expect(list.body.endpoints[0]?.disabled_at).not.toBeNull();
		const rotate = await call<{ error: Json }>(
			`/api/v1/orgs/${orgId}/webhooks/${wid}/rotate-secret`,
			{ method: "POST", json: {}, headers: bearer(owner.access_token) },
		);
		expect(rotate.status).toBe(409);
		const audit = await sql<{ action: string }>(
			"select action from audit_logs where user_id = $1 and action = 'webhook_endpoint_disabled'",
			[owner.user.id],
		);
		expect(audit).toHaveLength(1);
	});

	it("lists deliveries newest first with their state, up to limit", async () => {
		const { orgId, owner } = await orgOfNewOwner();
		const wid = (await register(orgId, owner)).body.endpoint.id;
		const older = crypto.randomUUID();
		const newer = crypto.randomUUID();
		await sql(
			`insert into webhook_outbox (event_id, endpoint_id, event_type, payload, attempts, created_at, last_status, last_error, dead_at)
			 values ($1, $2, 'license.created', '{}'::jsonb, 6, now() - interval '1 hour', 500, 'HTTP 500', now())`,
			[older, wid],
		);
		await sql(
			`insert into webhook_outbox (event_id, endpoint_id, event_type, payload, attempts, last_status, delivered_at)
			 values ($1, $2, 'license.created', '{}'::jsonb, 1, 200, now())`,
			[newer, wid],
		);
		const base = `/api/v1/orgs/${orgId}/webhooks/${wid}/deliveries`;
		const all = await call<{ deliveries: Json[] }>(base, { headers: bearer(owner.access_token) });
		expect(all.status).toBe(200);
		expect(all.body.deliveries.map((d) => d.event_id)).toEqual([newer, older]);
		expect(all.body.deliveries[1]).toMatchObject({
			event_type: "license.created",
			attempts: 6,
			last_status: 500,
			last_error: "HTTP 500",
			delivered_at: null,
		});
		expect(all.body.deliveries[1]?.dead_at).toEqual(expect.any(String));
		expect(all.body.deliveries[0]?.delivered_at).toEqual(expect.any(String));
		const one = await call<{ deliveries: Json[] }>(`${base}?limit=1`, {
			headers: bearer(owner.access_token),
		});
		expect(one.body.deliveries.map((d) => d.event_id)).toEqual([newer]);
		const tooMany = await call(`${base}?limit=101`, { headers: bearer(owner.access_token) });
		expect(tooMany.status).toBe(400);
	});

	it.each([
		["a private address", { url: "https://10.0.0.5/hook" }, "url"],
		["the metadata address", { url: "https://169.254.169.254/latest" }, "url"],
		["loopback", { url: "https://127.0.0.1/hook" }, "url"],
		["plain http", { url: "http://hooks.example.com/in" }, "url"],
		["credentials in the URL", { url: "https://u:p@hooks.example.com/in" }, "url"],
		["an unknown event", { events: ["license.exploded"] }, "events.0"],
		["no events", { events: [] }, "events"],
		["a repeated event", { events: ["license.created", "license.created"] }, "events"],
		["an unknown field", { secret: "mine" }, "secret"],
	])("refuses %s with 400 naming the field", async (_label, body, field) => {
		const { orgId, owner } = await orgOfNewOwner();
		const res = await register(orgId, owner, body);
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe("INVALID_REQUEST");
		expect(res.body.error.fields).toEqual([field]);
		const rows = await sql("select id from webhook_endpoints where org_id = $1", [orgId]);
		expect(rows).toHaveLength(0);
	});

	it("is 404 for a stranger and for another org's endpoint, 403 for a plain member", async () => {
		const { orgId, owner } = await orgOfNewOwner();
		const wid = (await register(orgId, owner)).body.endpoint.id;
		const stranger = await newUser();
		const asStranger = await call<{ error: Json }>(`/api/v1/orgs/${orgId}/webhooks`, {
			headers: bearer(stranger.session.access_token),
		});
		expect(asStranger.status).toBe(404);
		expect((await register(orgId, stranger.session)).status).toBe(404);

		// The stranger's own org cannot reach this org's endpoint by its id.
		const other = await call<{ id: string }>("/api/v1/orgs", {
			json: { name: "Other" },
			headers: bearer(stranger.session.access_token),
		});
		for (const [method, suffix] of [
			["DELETE", ""],
			["POST", "/rotate-secret"],
			["GET", "/deliveries"],
		] as const) {
			const res = await call(`/api/v1/orgs/${other.body.id}/webhooks/${wid}${suffix}`, {
				method,
				...(method === "GET" ? {} : { json: {} }),
				headers: bearer(stranger.session.access_token),
			});
			expect(res.status, `${method} ${suffix}`).toBe(404);
		}
		const [row] = await sql<{ disabled: boolean }>(
			"select disabled_at is not null as disabled from webhook_endpoints where id = $1",
			[wid],
		);
		expect(row?.disabled).toBe(false);

		await sql("insert into org_members (id, org_id, user_id, role) values ($1, $2, $3, 'member')", [
			`seat_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`,
			orgId,
			stranger.session.user.id,
		]);
		const asMember = await call<{ error: Json }>(`/api/v1/orgs/${orgId}/webhooks`, {
			headers: bearer(stranger.session.access_token),
		});
		expect(asMember.status).toBe(403);
		expect(asMember.body.error.code).toBe("FORBIDDEN");
		expect((await register(orgId, stranger.session)).status).toBe(403);
	});
	it("refuses a 21st live endpoint with 409; a disabled one frees a place", async () => {
		const { orgId, owner } = await orgOfNewOwner();
		const ids: string[] = [];
		for (let i = 0; i < 20; i++) {
			const res = await register(orgId, owner, { url: `https://hooks.example.com/${i}` });
			expect(res.status).toBe(201);
			ids.push(res.body.endpoint.id);
		}
		const over = await register(orgId, owner);
		expect(over.status).toBe(409);
		expect(over.body.error.code).toBe("CONFLICT");
		const gone = await call(`/api/v1/orgs/${orgId}/webhooks/${ids[0]}`, {
			method: "DELETE",
			headers: bearer(owner.access_token),
		});
		expect(gone.status).toBe(204);
		expect((await register(orgId, owner)).status).toBe(201);
	});
});

/** An operator endpoint (ADMIN_TOKEN); a test disables its own before it ends. */
async function registerOperator(body: Json = {}) {
	return call<{ endpoint: Endpoint; secret: string; error: Json }>("/api/v1/admin/webhooks", {
		json: {
			url: `https://ops.example.com/${crypto.randomUUID()}`,
			// An event no other test file provokes, so these endpoints queue nothing of theirs.
			events: ["ci.lease_limit_reached"],
			...body,
		},
		admin: true,
	});
}

async function disableOperator(wid: string): Promise<void> {
	const res = await call(`/api/v1/admin/webhooks/${wid}`, { method: "DELETE", admin: true });
	expect(res.status).toBe(204);
}

describe("operator webhook endpoints", () => {
	it("registers (secret once), lists only operator endpoints, rotates, lists deliveries, disables; audited as the operator", async () => {
		const made = await registerOperator();
		expect(made.status, made.text).toBe(201);
		const wid = made.body.endpoint.id;
		try {
			expect(made.body.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
			expect(made.body.endpoint).toMatchObject({ org_id: null, disabled_at: null });
			// An org's endpoint never shows up in the operator's list.
			const { orgId, owner } = await orgOfNewOwner();
			const orgHook = (await register(orgId, owner)).body.endpoint.id;

			const list = await call<{ endpoints: Endpoint[] }>("/api/v1/admin/webhooks", {
				admin: true,
			});
			expect(list.status).toBe(200);
			const ids = list.body.endpoints.map((e) => e.id);
			expect(ids).toContain(wid);
			expect(ids).not.toContain(orgHook);
			expect(list.body.endpoints.every((e) => e.org_id === null)).toBe(true);
			expect(list.text).not.toContain("whsec_");

			const rotated = await call<{ endpoint: Endpoint; secret: string }>(
				`/api/v1/admin/webhooks/${wid}/rotate-secret`,
				{ method: "POST", admin: true, headers: { "content-type": "application/json" } },
			);
			expect(rotated.status, rotated.text).toBe(200);
			expect(rotated.body.secret).not.toBe(made.body.secret);
			expect(rotated.body.endpoint.previous_secret_expires_at).not.toBeNull();

			const deliveries = await call<{ deliveries: unknown[] }>(
				`/api/v1/admin/webhooks/${wid}/deliveries?limit=5`,
				{ admin: true },
			);
			expect(deliveries.status).toBe(200);
			expect(Array.isArray(deliveries.body.deliveries)).toBe(true);

			await disableOperator(wid);
			await disableOperator(wid); // idempotent: one audit row below
			const audit = await sql<{ action: string; user_id: string | null; detail: string }>(
				"select action, user_id, detail::text as detail from audit_logs where detail->>'endpoint_id' = $1 order by at, id",
				[wid],
			);
			expect(audit.map((a) => a.action)).toEqual([
				"webhook_endpoint_created",
				"webhook_secret_rotated",
				"webhook_endpoint_disabled",
			]);
			for (const a of audit) {
				expect(a.user_id).toBeNull();
				expect(JSON.parse(a.detail)).toMatchObject({ actor: "operator", org_id: null });
				expect(a.detail).not.toContain("whsec_");
			}
		} finally {
			await disableOperator(wid);
		}
	});

	it("keeps operator and org endpoints apart (404 either way), wants the token, and checks input", async () => {
		const { orgId, owner } = await orgOfNewOwner();
		const orgHook = (await register(orgId, owner)).body.endpoint.id;
		const op = (await registerOperator()).body.endpoint.id;
		try {
			for (const [method, suffix] of [
				["DELETE", ""],
				["POST", "/rotate-secret"],
				["GET", "/deliveries"],
			] as const) {
				const viaAdmin = await call<{ error: Json }>(`/api/v1/admin/webhooks/${orgHook}${suffix}`, {
					method,
					admin: true,
					...(method === "GET" ? {} : { json: {} }),
				});
				expect(viaAdmin.status, `admin ${method} ${suffix}`).toBe(404);
				expect(viaAdmin.body.error.code).toBe("NOT_FOUND");
				const viaOrg = await call(`/api/v1/orgs/${orgId}/webhooks/${op}${suffix}`, {
					method,
					headers: bearer(owner.access_token),
					...(method === "GET" ? {} : { json: {} }),
				});
				expect(viaOrg.status, `org ${method} ${suffix}`).toBe(404);
			}
			const [row] = await sql<{ disabled: boolean }>(
				"select disabled_at is not null as disabled from webhook_endpoints where id = $1",
				[orgHook],
			);
			expect(row?.disabled).toBe(false);

			expect((await call("/api/v1/admin/webhooks")).status).toBe(401);
			const asUser = await call("/api/v1/admin/webhooks", {
				json: { url: "https://ops.example.com/x", events: ["license.created"] },
				headers: bearer(owner.access_token),
			});
			expect(asUser.status).toBe(401);

			for (const [body, field] of [
				[{ url: "https://127.0.0.1/in" }, "url"],
				[{ url: "http://ops.example.com/in" }, "url"],
				[{ url: "https://[::ffff:10.0.0.1]/in" }, "url"],
				[{ events: ["license.exploded"] }, "events"],
				[{ events: [] }, "events"],
				[{ secret: "mine" }, "secret"],
			] as const) {
				const res = await registerOperator(body);
				expect(res.status, JSON.stringify(body)).toBe(400);
				expect(res.body.error.code).toBe("INVALID_REQUEST");
				const fields = res.body.error.fields as string[];
				expect(fields.some((f) => f === field || f.startsWith(`${field}.`))).toBe(true);
			}
			const unknown = await call(`/api/v1/admin/webhooks/${op}/deliveries?limit=0`, {
				admin: true,
			});
			expect(unknown.status).toBe(400);
		} finally {
			await disableOperator(op);
		}
	});
});
