/**
 * An org holding a license, arranged straight in the database (the org routes are someone
 * else's): the owner is a real user with a session, the license a real operator license.
 */
import { inject } from "vitest";
import { newId } from "../../src/ids";
import { sql } from "./database";
import { bearer, call, createLicense, newUser } from "./worker-client";

export interface TestOrg {
	orgId: string;
	licenseId: string;
	owner: Record<string, string>;
}

export async function orgWithLicense(plan = "smb"): Promise<TestOrg> {
	const { session } = await newUser();
	const orgId = newId("org");
	const { id: licenseId } = await createLicense({ plan });
	await sql("insert into orgs (id, name) values ($1, $2)", [orgId, `Org ${orgId}`]);
	await sql("insert into org_members (id, org_id, user_id, role) values ($1, $2, $3, 'owner')", [
		newId("seat"),
		orgId,
		session.user.id,
	]);
	await sql("update licenses set org_id = $1 where id = $2", [orgId, licenseId]);
	return { orgId, licenseId, owner: bearer(session.access_token) };
}

/** Adds a user with `role` to the org; returns their auth header. */
export async function addMember(
	orgId: string,
	role: "admin" | "member",
): Promise<Record<string, string>> {
	const { session } = await newUser();
	await sql("insert into org_members (id, org_id, user_id, role) values ($1, $2, $3, $4)", [
		newId("seat"),
		orgId,
		session.user.id,
		role,
	]);
	return bearer(session.access_token);
}

export async function apiKeyFor(org: TestOrg, name = "ci"): Promise<string> {
	const res = await call<{ key: string }>(`/api/v1/orgs/${org.orgId}/api-keys`, {
		json: { name },
		headers: org.owner,
	});
	if (res.status !== 201) throw new Error(`api key failed: ${res.status} ${res.text}`);
	return res.body.key;
}

/** A GitHub-Actions-shaped ID token signed by the run's local OIDC issuer. */
export async function ciIdToken(claims: Record<string, unknown>, expiresIn = 300): Promise<string> {
	const res = await fetch(`${inject("oauthIssuer")}/_test/ci-id-token`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ claims, expires_in: expiresIn }),
	});
	return ((await res.json()) as { token: string }).token;
}
