/** CI runners through the Worker: org API keys, trust rules (a local OIDC issuer), leases. */
import { describe, expect, inject, it } from "vitest";
import { importPublicKeySet, verifyCiToken } from "../../src/kernel/index";
import { addMember, apiKeyFor, ciIdToken, orgWithLicense } from "../support/ci";
import { sql } from "../support/database";
import {
	bearer,
	call,
	createLicense,
	hardwareId,
	newUser,
	randomIp,
} from "../support/worker-client";

interface Lease {
	lease_id: string;
	org_id: string;
	job_id: string;
	token: string;
	expires_at: string;
}

const lease = (auth: string, json: Record<string, unknown>) =>
	call<Lease & { error?: Record<string, unknown> }>("/api/v1/ci/leases", {
		json,
		headers: bearer(auth),
		ip: randomIp(),
	});

async function auditOf(action: string, orgId: string) {
	return sql<{ result: string; detail: Record<string, unknown> }>(
		"select result, detail from audit_logs where action = $1 and detail->>'org_id' = $2 order by at, id",
		[action, orgId],
	);
}

describe("org API keys", () => {
	it("are created by owners and admins, shown once, listed masked, and revoked", async () => {
		const org = await orgWithLicense();
		const created = await call<{ key: string; api_key: { id: string; key_last4: string } }>(
			`/api/v1/orgs/${org.orgId}/api-keys`,
			{ json: { name: "github" }, headers: org.owner },
		);
		expect(created.status, created.text).toBe(201);
		expect(created.body.key).toMatch(/^cdt_ci_[A-Za-z0-9_-]{43}$/);
		expect(created.body.api_key.key_last4).toBe(created.body.key.slice(-4));
		const [stored] = await sql<{ key_hash: string }>(
			"select key_hash from org_api_keys where id = $1",
			[created.body.api_key.id],
		);
		expect(stored?.key_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(JSON.stringify(stored)).not.toContain(created.body.key);

		const admin = await addMember(org.orgId, "admin");
		const list = await call<{ api_keys: Array<{ id: string; last_used_at: string | null }> }>(
			`/api/v1/orgs/${org.orgId}/api-keys`,
			{ headers: admin },
		);
		expect(list.status, list.text).toBe(200);
		expect(list.body.api_keys.map((k) => k.id)).toEqual([created.body.api_key.id]);
		expect(list.text).not.toContain(created.body.key);

		expect((await lease(created.body.key, { job_id: "first" })).status).toBe(201);
		const used = await call<{ api_keys: Array<{ last_used_at: string | null }> }>(
			`/api/v1/orgs/${org.orgId}/api-keys`,
			{ headers: admin },
		);
		expect(used.body.api_keys[0]?.last_used_at).not.toBeNull();

		const revoke = await call(`/api/v1/orgs/${org.orgId}/api-keys/${created.body.api_key.id}`, {
			method: "DELETE",
			headers: admin,
		});
		expect(revoke.status, revoke.text).toBe(204);
		const refused = await lease(created.body.key, { job_id: "after-revoke" });
		expect(refused.status, refused.text).toBe(401);
		expect(refused.text).not.toContain(created.body.key);
		const failures = await sql<{ detail: { reason: string } }>(
			"select detail from audit_logs where action = 'ci_auth_failed' and detail->>'reason' = 'revoked_api_key'",
		);
		expect(failures.length).toBeGreaterThan(0);
	});

	it("are out of reach of members (403), strangers (404) and anonymous callers (401)", async () => {
		const org = await orgWithLicense();
		const member = await addMember(org.orgId, "member");
		const stranger = bearer((await newUser()).session.access_token);
		const path = `/api/v1/orgs/${org.orgId}/api-keys`;
		expect((await call(path, { json: { name: "x" }, headers: member })).status).toBe(403);
		expect((await call(path, { headers: member })).status).toBe(403);
		expect((await call(path, { json: { name: "x" }, headers: stranger })).status).toBe(404);
		expect((await call(path, { json: { name: "x" } })).status).toBe(401);
		expect((await call(`${path}/cik_nope`, { method: "DELETE", headers: org.owner })).status).toBe(
			404,
		);
		expect((await call(path, { json: { name: "" }, headers: org.owner })).status).toBe(400);
	});
});

describe("a CI lease", () => {
	it("is granted with a signed CI token, idempotent per job, extended by heartbeat and released", async () => {
		const org = await orgWithLicense();
		const key = await apiKeyFor(org);
		const first = await lease(key, { job_id: "acme/widgets#1", runner: "gh-1", ttl_s: 120 });
		expect(first.status, first.text).toBe(201);
		const jwks = await call<{ keys: [] }>("/.well-known/jwks.json");
		const verified = await verifyCiToken(first.body.token, await importPublicKeySet(jwks.body), {
			issuer: "http://license.test",
		});
		expect(verified).toMatchObject({
			ok: true,
			claims: {
				sub: org.licenseId,
				ci: { org: org.orgId, job: "acme/widgets#1", lease: first.body.lease_id },
				lic: { plan: "smb" },
			},
		});
		if (verified.ok) {
			expect(verified.claims.exp).toBe(Math.floor(Date.parse(first.body.expires_at) / 1000));
			expect(verified.claims.exp - verified.claims.iat).toBeLessThanOrEqual(121);
		}

		const again = await lease(key, { job_id: "acme/widgets#1" });
		expect(again.status, again.text).toBe(200);
		expect(again.body.lease_id).toBe(first.body.lease_id);

		// The lease token itself may heartbeat its own lease.
		const beat = await call<Lease>(`/api/v1/ci/leases/${first.body.lease_id}/heartbeat`, {
			json: { ttl_s: 600 },
			headers: bearer(first.body.token),
		});
		expect(beat.status, beat.text).toBe(200);
		expect(Date.parse(beat.body.expires_at)).toBeGreaterThan(Date.parse(first.body.expires_at));

		const released = await call(`/api/v1/ci/leases/${first.body.lease_id}`, {
			method: "DELETE",
			headers: bearer(beat.body.token),
		});
		expect(released.status, released.text).toBe(204);
		const twice = await call(`/api/v1/ci/leases/${first.body.lease_id}`, {
			method: "DELETE",
			headers: bearer(key),
		});
		expect(twice.status).toBe(204);
		const dead = await call(`/api/v1/ci/leases/${first.body.lease_id}/heartbeat`, {
			json: {},
			headers: bearer(key),
		});
		expect(dead.status, dead.text).toBe(404);
		// A released job leases anew.
		const fresh = await lease(key, { job_id: "acme/widgets#1" });
		expect(fresh.status).toBe(201);
		expect(fresh.body.lease_id).not.toBe(first.body.lease_id);
		expect((await auditOf("ci_lease_acquired", org.orgId)).length).toBe(2);
		expect((await auditOf("ci_lease_released", org.orgId)).length).toBe(1);
	});

	it("never exceeds the plan's ci_runners: the next one is a 409 saying when a slot frees", async () => {
		const org = await orgWithLicense("smb"); // 5 runners
		const key = await apiKeyFor(org);
		const held: Lease[] = [];
		for (let i = 0; i < 5; i++) {
			const r = await lease(key, { job_id: `job-${i}`, ttl_s: 60 + i * 60 });
			expect(r.status, r.text).toBe(201);
			held.push(r.body);
		}
		const over = await lease(key, { job_id: "job-5" });
		expect(over.status, over.text).toBe(409);
		expect(over.body.error).toMatchObject({
			code: "CI_CONCURRENCY_LIMIT",
			limit: 5,
			active: 5,
			next_free_at: held[0]?.expires_at,
		});
		expect((await auditOf("ci_lease_denied", org.orgId))[0]?.result).toBe("CI_CONCURRENCY_LIMIT");

		// A runner that died: its lease runs out, and the slot is free with nobody cleaning up.
		await sql("update ci_leases set expires_at = now() - interval '1 second' where id = $1", [
			held[0]?.lease_id ?? "",
		]);
		const freed = await lease(key, { job_id: "job-5" });
		expect(freed.status, freed.text).toBe(201);
		const late = await call(`/api/v1/ci/leases/${held[0]?.lease_id}/heartbeat`, {
			json: {},
			headers: bearer(key),
		});
		expect(late.status, "an expired lease is not revived").toBe(404);
	});

	it("is out of reach of another org (404) and unknown ids are 404", async () => {
		const mine = await orgWithLicense();
		const theirs = await orgWithLicense();
		const mineLease = await lease(await apiKeyFor(mine), { job_id: "j" });
		const theirKey = await apiKeyFor(theirs);
		const id = mineLease.body.lease_id;
		for (const [path, opts] of [
			[`/api/v1/ci/leases/${id}/heartbeat`, { json: {} }],
			[`/api/v1/ci/leases/${id}`, { method: "DELETE" }],
			["/api/v1/ci/leases/cil_unknown/heartbeat", { json: {} }],
			["/api/v1/ci/leases/cil_unknown", { method: "DELETE" }],
		] as const) {
			const r = await call(path, { ...opts, headers: bearer(theirKey) });
			expect(r.status, `${path} ${r.text}`).toBe(404);
		}
		// A lease token speaks only for its own lease.
		const other = await lease(theirKey, { job_id: "j" });
		const r = await call(`/api/v1/ci/leases/${id}/heartbeat`, {
			json: {},
			headers: bearer(other.body.token),
		});
		expect(r.status).toBe(404);
	});

	it("answers bad input and bad credentials with 4xx, never a lease", async () => {
		const org = await orgWithLicense();
		const key = await apiKeyFor(org);
		for (const body of [
			{},
			{ job_id: "" },
			{ job_id: "x".repeat(256) },
			{ job_id: "j", ttl_s: 10 },
			{ job_id: "j", ttl_s: 7200 },
			{ job_id: "j", ttl_s: "60" },
			{ job_id: "j", extra: 1 },
			{ job_id: "bell\u0007" },
		]) {
			const r = await lease(key, body);
			expect(r.status, `${JSON.stringify(body)} ${r.text}`).toBe(400);
		}
		const token = (await lease(key, { job_id: "ok" })).body.token;
		const license = await call<{ token: string }>("/api/v1/licenses/activate", {
			json: { license_key: (await createLicense()).key, hardware_id: hardwareId() },
		});
		for (const credential of [
			"",
			"garbage",
			"cdt_ci_wrong",
			`cdt_ci_${"A".repeat(43)}`,
			token, // a lease token cannot lease
			license.body.token ?? "x.y.z", // nor can a license token
		]) {
			const r = await call("/api/v1/ci/leases", {
				json: { job_id: "nope" },
				headers: credential ? bearer(credential) : {},
				ip: randomIp(),
			});
			expect(r.status, `${credential.slice(0, 12)} ${r.text}`).toBe(401);
			expect(r.body).toMatchObject({ error: { code: "UNAUTHORIZED" } });
		}
	});
});

describe("workload identity (OIDC trust rules)", () => {
	const issuer = () => inject("oauthIssuer");
	const github = (over: Record<string, unknown> = {}) => ({
		aud: "http://license.test",
		sub: "repo:acme/widgets:ref:refs/heads/main",
		repository: "acme/widgets",
		repository_owner: "acme",
		ref: "refs/heads/main",
		run_id: "1234",
		...over,
	});

	async function trustingOrg() {
		const org = await orgWithLicense();
		const owner = `acme-${crypto.randomUUID().slice(0, 8)}`;
		const rule = await call<{ trust_rule: { id: string; audience: string } }>(
			`/api/v1/orgs/${org.orgId}/ci-trust-rules`,
			{
				json: {
					name: "GitHub Actions",
					issuer: issuer(),
					conditions: { repository_owner: owner, repository: `${owner}/*` },
				},
				headers: org.owner,
			},
		);
		expect(rule.status, rule.text).toBe(201);
		expect(rule.body.trust_rule.audience, "defaults to PUBLIC_URL").toBe("http://license.test");
		return { org, owner, ruleId: rule.body.trust_rule.id };
	}

	it("grants a lease to a job whose ID token satisfies the rule, without a static secret", async () => {
		const { org, owner } = await trustingOrg();
		const token = await ciIdToken(
			github({ repository_owner: owner, repository: `${owner}/widgets` }),
		);
		const r = await lease(token, { job_id: "run-1234" });
		expect(r.status, r.text).toBe(201);
		expect(r.body.org_id).toBe(org.orgId);
		const [audit] = await auditOf("ci_lease_acquired", org.orgId);
		expect(audit?.detail.granted_by).toMatch(/^oidc:ctr_/);
	});

	it("refuses a wrong audience, another repository, an expired, unsigned or alg:none token (401, audited)", async () => {
		const { owner } = await trustingOrg();
		const good = github({ repository_owner: owner, repository: `${owner}/widgets` });
		const signed = await ciIdToken(good);
		const [h = "", p = ""] = signed.split(".");
		const noneHeader = btoa(JSON.stringify({ alg: "none", typ: "JWT" }))
			.replace(/=+$/, "")
			.replace(/\+/g, "-")
			.replace(/\//g, "_");
		const cases: Array<[string, string]> = [
			["wrong audience", await ciIdToken({ ...good, aud: "https://someone-else.example" })],
			[
				"untrusted repository",
				await ciIdToken({ ...good, repository_owner: "evil", repository: "evil/x" }),
			],
			[
				"other repo, same owner claim forged elsewhere",
				await ciIdToken({ ...good, repository: "evil/x" }),
			],
			["expired", await ciIdToken(good, -120)],
			["unsigned", `${h}.${p}.`],
			["alg none", `${noneHeader}.${p}.`],
			[
				"wrong issuer",
				await ciIdToken({ ...good, iss: "https://token.actions.githubusercontent.com" }),
			],
		];
		const before = await sql<{ n: number }>(
			"select count(*)::int as n from audit_logs where action = 'ci_auth_failed' and detail->>'via' = 'oidc'",
		);
		for (const [why, token] of cases) {
			const r = await lease(token, { job_id: `run-${why}` });
			expect(r.status, `${why}: ${r.text}`).toBe(401);
		}
		const after = await sql<{ n: number }>(
			"select count(*)::int as n from audit_logs where action = 'ci_auth_failed' and detail->>'via' = 'oidc'",
		);
		expect((after[0]?.n ?? 0) - (before[0]?.n ?? 0)).toBeGreaterThanOrEqual(cases.length);
		// Each refusal is audited with why (and never the token).
		const reasons = await sql<{ reason: string; detail: string }>(
			"select detail->>'reason' as reason, detail::text as detail from audit_logs where action = 'ci_auth_failed' and detail->>'via' = 'oidc' order by at desc, id desc limit $1",
			[cases.length],
		);
		expect(new Set(reasons.map((r) => r.reason))).toEqual(
			new Set([
				"claim_aud",
				"no_matching_rule",
				"expired",
				"bad_signature",
				"algorithm_not_allowed",
				"untrusted_issuer",
			]),
		);
		for (const r of reasons) expect(r.detail).not.toContain(signed.slice(0, 30));
	});

	it("stops granting once the rule is revoked; rules are validated and managed by admins only", async () => {
		const { org, owner, ruleId } = await trustingOrg();
		const del = await call(`/api/v1/orgs/${org.orgId}/ci-trust-rules/${ruleId}`, {
			method: "DELETE",
			headers: org.owner,
		});
		expect(del.status, del.text).toBe(204);
		const token = await ciIdToken(github({ repository_owner: owner, repository: `${owner}/w` }));
		expect((await lease(token, { job_id: "after" })).status).toBe(401);

		const path = `/api/v1/orgs/${org.orgId}/ci-trust-rules`;
		const bad = [
			{ name: "globs only", issuer: issuer(), conditions: { repository: "*" } },
			{ name: "no conditions", issuer: issuer(), conditions: {} },
			{ name: "plain http", issuer: "http://ci.example.com", conditions: { a: "b" } },
			{ name: "not a url", issuer: "token-actions", conditions: { a: "b" } },
		];
		for (const body of bad) {
			const r = await call(path, { json: body, headers: org.owner });
			expect(r.status, `${body.name}: ${r.text}`).toBe(400);
		}
		const member = await addMember(org.orgId, "member");
		expect((await call(path, { headers: member })).status).toBe(403);
		const list = await call<{ trust_rules: Array<{ revoked_at: string | null }> }>(path, {
			headers: org.owner,
		});
		expect(list.body.trust_rules.map((r) => r.revoked_at !== null)).toEqual([true]);
	});
});
