/** An org admin's SSO settings through the Worker on the run's Postgres: the plan gate, who
 * may see what, the secret never returned, TXT verification through the fake DoH resolver. */
import { describe, expect, inject, it } from "vitest";
import { sql } from "../support/database";
import { bearer, call, createLicense, newUser } from "../support/worker-client";

type Json = Record<string, unknown>;

async function orgOn(plan: string) {
	const owner = await newUser();
	const org = await call<{ id: string }>("/api/v1/orgs", {
		json: { name: "Acme" },
		headers: bearer(owner.session.access_token),
	});
	const { id } = await createLicense({ plan });
	await sql("update licenses set org_id = $1 where id = $2", [org.body.id, id]);
	return { orgId: org.body.id, owner: owner.session };
}

const connection = () => ({
	issuer: inject("oauthIssuer"),
	client_id: "acme-client",
	client_secret: "acme-very-secret",
});

const publish = (name: string, txt: string[]) =>
	fetch(`${inject("oauthIssuer")}/_test/dns`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ name, txt }),
	});

describe("org SSO settings", () => {
	it("is for SMB and Enterprise only: 403 on Team, 404 for a stranger, 403 for a member", async () => {
		const team = await orgOn("team");
		const res = await call<{ error: Json }>(`/api/v1/orgs/${team.orgId}/sso`, {
			method: "PUT",
			json: connection(),
			headers: bearer(team.owner.access_token),
		});
		expect(res.status, res.text).toBe(403);
		expect(String(res.body.error.message)).toMatch(/SMB and Enterprise/);

		const smb = await orgOn("smb");
		const stranger = await newUser();
		const seen = await call(`/api/v1/orgs/${smb.orgId}/sso`, {
			headers: bearer(stranger.session.access_token),
		});
		expect(seen.status).toBe(404);
		await sql("insert into org_members (id, org_id, user_id, role) values ($1, $2, $3, 'member')", [
			`seat_${crypto.randomUUID().slice(0, 8)}`,
			smb.orgId,
			stranger.session.user.id,
		]);
		const asMember = await call(`/api/v1/orgs/${smb.orgId}/sso`, {
			headers: bearer(stranger.session.access_token),
		});
		expect(asMember.status).toBe(403);
	});

	it("stores the provider with its secret sealed, never returns it, and audits every write", async () => {
		const { orgId, owner } = await orgOn("enterprise");
		const put = await call<{ connection: Json }>(`/api/v1/orgs/${orgId}/sso`, {
			method: "PUT",
			json: { ...connection(), password_login_disabled: true },
			headers: bearer(owner.access_token),
		});
		expect(put.status, put.text).toBe(200);
		expect(put.text).not.toContain("acme-very-secret");
		expect(put.body.connection).toMatchObject({
			issuer: inject("oauthIssuer"),
			client_id: "acme-client",
			client_secret_set: true,
			password_login_disabled: true,
		});
		const [row] = await sql<{ client_secret_enc: string }>(
			"select client_secret_enc from org_sso_connections where org_id = $1",
			[orgId],
		);
		expect(row?.client_secret_enc).toMatch(/^v1\./);
		expect(row?.client_secret_enc).not.toContain("acme-very-secret");

		// Keeping the secret: a later PUT may leave it out.
		const again = await call(`/api/v1/orgs/${orgId}/sso`, {
			method: "PUT",
			json: { issuer: inject("oauthIssuer"), client_id: "acme-client-2" },
			headers: bearer(owner.access_token),
		});
		expect(again.status, again.text).toBe(200);
		const bad = await call<{ error: Json }>(`/api/v1/orgs/${orgId}/sso`, {
			method: "PUT",
			json: { issuer: "http://127.0.0.1:1/none", client_id: "x" },
			headers: bearer(owner.access_token),
		});
		expect(bad.status).toBe(400);
		expect(bad.body.error.fields).toEqual(["issuer"]);
		const insecure = await call(`/api/v1/orgs/${orgId}/sso`, {
			method: "PUT",
			json: { issuer: "http://idp.example", client_id: "x" },
			headers: bearer(owner.access_token),
		});
		expect(insecure.status).toBe(400);

		const audit = await sql<{ action: string; result: string; detail: string }>(
			"select action, result, detail::text as detail from audit_logs where user_id = $1 and action like 'sso_%' order by at, id",
			[owner.user.id],
		);
		expect(audit.map((a) => [a.action, a.result])).toEqual([
			["sso_configured", "created"],
			["sso_configured", "updated"],
		]);
		expect(audit.map((a) => a.detail).join()).not.toContain("acme-very-secret");
	});

	it("verifies a domain only with the TXT record, and only for one org", async () => {
		const a = await orgOn("smb");
		const domain = `acme-${crypto.randomUUID().slice(0, 8)}.example`;
		const added = await call<{ verification: { name: string; value: string }; verified: boolean }>(
			`/api/v1/orgs/${a.orgId}/sso/domains`,
			{ json: { domain: domain.toUpperCase() }, headers: bearer(a.owner.access_token) },
		);
		expect(added.status, added.text).toBe(201);
		expect(added.body.verified).toBe(false);
		expect(added.body.verification.name).toBe(`_coditect.${domain}`);
		expect(added.body.verification.value).toMatch(/^coditect-verification=[a-z2-7]{26}$/);
		const twice = await call(`/api/v1/orgs/${a.orgId}/sso/domains`, {
			json: { domain },
			headers: bearer(a.owner.access_token),
		});
		expect(twice.status).toBe(409);
		const badDomain = await call(`/api/v1/orgs/${a.orgId}/sso/domains`, {
			json: { domain: "not a domain" },
			headers: bearer(a.owner.access_token),
		});
		expect(badDomain.status).toBe(400);

		const verify = (orgId: string, token: string) =>
			call<{ verified: boolean; error?: Json }>(
				`/api/v1/orgs/${orgId}/sso/domains/${domain}/verify`,
				{ method: "POST", json: {}, headers: bearer(token) },
			);
		const early = await verify(a.orgId, a.owner.access_token);
		expect(early.status, early.text).toBe(409);
		await publish(added.body.verification.name, ["v=spf1 -all", added.body.verification.value]);
		const done = await verify(a.orgId, a.owner.access_token);
		expect(done.status, done.text).toBe(200);
		expect(done.body.verified).toBe(true);

		// Another org may claim the domain, but cannot verify it while the first holds it.
		const b = await orgOn("smb");
		const claim = await call<{ verification: { value: string } }>(
			`/api/v1/orgs/${b.orgId}/sso/domains`,
			{ json: { domain }, headers: bearer(b.owner.access_token) },
		);
		expect(claim.status).toBe(201);
		await publish(`_coditect.${domain}`, [claim.body.verification.value]);
		const taken = await verify(b.orgId, b.owner.access_token);
		expect(taken.status, taken.text).toBe(409);
		// A foreign org's domain is not there for the caller.
		const foreign = await call(`/api/v1/orgs/${b.orgId}/sso/domains/${domain}`, {
			method: "DELETE",
			json: {},
			headers: bearer(a.owner.access_token),
		});
		expect(foreign.status).toBe(404);

		const audit = await sql<{ action: string; result: string }>(
			"select action, result from audit_logs where user_id = $1 and action like 'sso_%' order by at, id",
			[a.owner.user.id],
		);
		expect(audit.map((r) => [r.action, r.result])).toEqual([
			["sso_domain_added", "success"],
			["sso_domain_verified", "record_missing"],
			["sso_domain_verified", "success"],
		]);
	});
});
