/** Org SSO through the Node entry over real HTTP on Postgres: the provider is connected
 * (discovery against the local OIDC mock) and a domain verified through the fake
 * DNS-over-HTTPS resolver, as on the Worker; then members sign in through it onto seats,
 * concurrently too, and password login is refused once the org turns it off. */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { importJwtSecret, signAccessToken } from "../../src/accounts/access-token";
import { newId } from "../../src/ids";
import type { RunningServer } from "../../src/server";
import { clientAddress, closeAgents, http, nodeServer, testSql } from "./support";

const ISSUER = "http://sso.node.test";
let server: RunningServer;
const sql = testSql();

beforeAll(async () => {
	server = await nodeServer({
		env: { PUBLIC_URL: ISSUER, DNS_OVER_HTTPS_URL: `${inject("oauthIssuer")}/dns-query` },
	});
});
afterAll(async () => {
	closeAgents();
	await server.close();
	await sql.end();
});

async function owner(): Promise<{ email: string; auth: Record<string, string> }> {
	const id = newId("usr");
	const email = `sso-${id.slice(4, 14)}@example.test`;
	const family = newId("rtf");
	await sql`insert into users (id, email, email_verified_at) values (${id}, ${email}, now())`;
	await sql`insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
		values (${newId("rtk")}, ${id}, ${family}, ${crypto.randomUUID()}, now() + interval '1 day')`;
	const key = await importJwtSecret(inject("jwtSecret"));
	const token = await signAccessToken(key, ISSUER, { userId: id, email, sessionId: family });
	return { email, auth: { authorization: `Bearer ${token}` } };
}

describe("org SSO on the Node entry", () => {
	it("connects the provider, hides the secret and verifies a domain by TXT", async () => {
		const me = await owner();
		const org = await http<{ id: string }>(`${server.url}/api/v1/orgs`, {
			json: { name: "Acme" },
			headers: me.auth,
		});
		const license = await http(`${server.url}/api/v1/admin/licenses`, {
			json: { plan: "smb", owner_email: me.email, org_id: org.body.id },
			admin: true,
		});
		expect(license.status, license.text).toBe(201);
		const base = `${server.url}/api/v1/orgs/${org.body.id}/sso`;
		const put = await http(base, {
			method: "PUT",
			json: { issuer: inject("oauthIssuer"), client_id: "acme", client_secret: "node-secret" },
			headers: me.auth,
		});
		expect(put.status, put.text).toBe(200);
		expect(put.text).not.toContain("node-secret");

		const domain = `node-${crypto.randomUUID().slice(0, 8)}.example`;
		const added = await http<{ verification: { name: string; value: string } }>(`${base}/domains`, {
			json: { domain },
			headers: me.auth,
		});
		expect(added.status, added.text).toBe(201);
		const verify = () =>
			http<{ verified: boolean }>(`${base}/domains/${domain}/verify`, {
				json: {},
				headers: me.auth,
			});
		expect((await verify()).status).toBe(409);
		await fetch(`${inject("oauthIssuer")}/_test/dns`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({
				name: added.body.verification.name,
				txt: [added.body.verification.value],
			}),
		});
		const ok = await verify();
		expect(ok.status, ok.text).toBe(200);
		expect(ok.body.verified).toBe(true);
		// Bad input is a 4xx, never a 5xx.
		const bad = await http(base, { method: "PUT", json: { issuer: 5 }, headers: me.auth });
		expect(bad.status).toBe(400);
	});
});

/** An SMB org with `seats` seats (the owner holds one), the mock as its provider, a verified domain. */
async function ssoOrg(seats: number) {
	const me = await owner();
	const org = await http<{ id: string }>(`${server.url}/api/v1/orgs`, {
		json: { name: "Acme" },
		headers: me.auth,
	});
	const orgId = org.body.id;
	const license = await http<{ license: { id: string } }>(`${server.url}/api/v1/admin/licenses`, {
		json: { plan: "smb", owner_email: me.email, org_id: orgId },
		admin: true,
	});
	await sql`update licenses set seats = ${seats} where id = ${license.body.license.id}`;
	const base = `${server.url}/api/v1/orgs/${orgId}/sso`;
	const put = await http(base, {
		method: "PUT",
		json: { issuer: inject("oauthIssuer"), client_id: "acme-node", client_secret: "node-secret" },
		headers: me.auth,
	});
	expect(put.status, put.text).toBe(200);
	const domain = `node-${crypto.randomUUID().slice(0, 8)}.example`;
	const added = await http<{ verification: { name: string; value: string } }>(`${base}/domains`, {
		json: { domain },
		headers: me.auth,
	});
	await fetch(`${inject("oauthIssuer")}/_test/dns`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({
			name: added.body.verification.name,
			txt: [added.body.verification.value],
		}),
	});
	const ok = await http(`${base}/domains/${domain}/verify`, { json: {}, headers: me.auth });
	expect(ok.status, ok.text).toBe(200);
	return { orgId, domain, base, auth: me.auth };
}

const REDIRECT = "http://127.0.0.1:49155/callback/sso";

/** start → the mock approves as `email` → callback, from client address `from`. */
async function ssoSignIn(email: string, from: string) {
	const verifier = randomBytes(32).toString("base64url");
	const challenge = createHash("sha256").update(verifier).digest("base64url");
	const started = await http<{ authorization_url: string; state: string }>(
		`${server.url}/api/v1/auth/sso/start`,
		{ json: { email, redirect_uri: REDIRECT, code_challenge: challenge }, from },
	);
	expect(started.status, started.text).toBe(200);
	const url = new URL(started.body.authorization_url);
	url.searchParams.set("login_hint", `${crypto.randomUUID()}|${email}|1`);
	const res = await fetch(url, { redirect: "manual" });
	const code = new URL(res.headers.get("location") ?? "").searchParams.get("code");
	return http<{
		joined: boolean;
		seat_id: string;
		user: { email: string };
		error?: { code: string };
	}>(`${server.url}/api/v1/auth/sso/callback`, {
		json: { state: started.body.state, code, code_verifier: verifier, redirect_uri: REDIRECT },
		from,
	});
}

describe("SSO login on the Node entry", () => {
	it("seats a member, and never more members than seats when many sign in at once", async () => {
		const { orgId, domain } = await ssoOrg(4);
		const first = await ssoSignIn(`first@${domain}`, clientAddress(1));
		expect(first.status, first.text).toBe(200);
		expect(first.body.joined).toBe(true);
		// Two seats are left; six people sign in at once.
		const results = await Promise.all(
			Array.from({ length: 6 }, (_, i) => ssoSignIn(`p${i}@${domain}`, clientAddress(10 + i))),
		);
		const statuses = results.map((r) => r.status).sort();
		expect(statuses).toEqual([200, 200, 403, 403, 403, 403]);
		for (const r of results.filter((r) => r.status === 403)) {
			expect(r.body.error?.code).toBe("SEAT_LIMIT_REACHED");
		}
		const [count] = await sql<{ n: number }[]>`
			select count(*)::int as n from org_members where org_id = ${orgId}`;
		expect(count?.n).toBe(4);
	});

	it("refuses password login for the domain once the org turns it off", async () => {
		const { domain, base, auth } = await ssoOrg(5);
		const email = `pw@${domain}`;
		const before = await http(`${server.url}/api/v1/auth/login`, {
			json: { email, password: "a long enough password" },
			from: clientAddress(30),
		});
		expect(before.status).toBe(401);
		const off = await http(base, {
			method: "PUT",
			json: {
				issuer: inject("oauthIssuer"),
				client_id: "acme-node",
				password_login_disabled: true,
			},
			headers: auth,
		});
		expect(off.status, off.text).toBe(200);
		const after = await http<{ error: { code: string; message: string } }>(
			`${server.url}/api/v1/auth/login`,
			{ json: { email, password: "a long enough password" }, from: clientAddress(31) },
		);
		expect(after.status, after.text).toBe(403);
		expect(after.body.error.code).toBe("SSO_REQUIRED");
		expect(after.body.error.message).toContain(`coditect login --sso ${email}`);
		// SSO still lets them in.
		const sso = await ssoSignIn(email, clientAddress(32));
		expect(sso.status, sso.text).toBe(200);
	});

	it("answers bad input and foreign states with a 4xx, never a 5xx", async () => {
		const { orgId } = await ssoOrg(2);
		const url = (step: string) => `${server.url}/api/v1/auth/sso/${step}`;
		const from = clientAddress(40);
		const challenge = "c".repeat(43);
		const answers = await Promise.all([
			http(url("start"), { json: { org: orgId, redirect_uri: REDIRECT }, from }),
			http(url("start"), {
				json: {
					org: orgId,
					email: "a@b.example",
					redirect_uri: REDIRECT,
					code_challenge: challenge,
				},
				from,
			}),
			http(url("start"), {
				json: {
					org: orgId,
					redirect_uri: "https://127.0.0.1/callback/sso",
					code_challenge: challenge,
				},
				from,
			}),
			http(url("callback"), {
				json: { state: "x.y", code: "c", code_verifier: "v".repeat(43), redirect_uri: REDIRECT },
				from,
			}),
			http(url("callback"), {
				method: "POST",
				headers: { "content-type": "application/json" },
				from,
			}),
		]);
		expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
		const notJson = await fetch(url("start"), {
			method: "POST",
			headers: { "content-type": "text/plain" },
			body: "org=x",
		});
		expect(notJson.status).toBe(415);
		const unknown = await http<{ error: { code: string } }>(url("start"), {
			json: { org: "org_nosuchorg", redirect_uri: REDIRECT, code_challenge: challenge },
			from: clientAddress(41),
		});
		expect(unknown.status).toBe(404);
		expect(unknown.body.error.code).toBe("NOT_FOUND");
	});
});
