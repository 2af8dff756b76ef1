/** Org SSO settings through the Node entry over real HTTP on Postgres: the provider is
 * connected (discovery against the local OIDC mock) and a domain verified through the fake
 * DNS-over-HTTPS resolver, as on the Worker. */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { importJwtSecret, signAccessToken } from "../../src/accounts/access-token";
import { newId } from "../../src/ids";
import type { RunningServer } from "../../src/server";
import { closeAgents, http, nodeServer, testSql } from "./support";

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
