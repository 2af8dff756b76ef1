/**
 * A verified user with a live session, made directly in the database (no Argon2, no mail), for
 * suites that need many callers. The tokens are real: the refresh token is stored as its
 * SHA-256 like a login stores it, the access token is signed with the run's JWT secret.
 */
import { inject } from "vitest";
import { importJwtSecret, signAccessToken } from "../../src/accounts/access-token";
import { hashRefreshToken } from "../../src/accounts/sessions";
import { newId } from "../../src/ids";
import { encodeBase64Url } from "../../src/kernel/base64url";
import { sql } from "./database";
import { call } from "./worker-client";

export interface SessionUser {
	id: string;
	email: string;
	accessToken: string;
	refreshToken: string;
}

export const ISSUER = "http://license.test";

export async function sessionUser(label = "caller"): Promise<SessionUser> {
	const id = newId("usr");
	const email = `${label}-${id.slice(4, 14)}@example.test`;
	const family = newId("rtf");
	const refreshToken = `cdr_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
	await sql(
		`with u as (insert into users (id, email, email_verified_at) values ($1, $2, now()) returning id)
		insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
		select $3, u.id, $4, $5, now() + interval '1 day' from u`,
		[id, email, newId("rtk"), family, await hashRefreshToken(refreshToken)],
	);
	const key = await importJwtSecret(inject("jwtSecret"));
	const accessToken = await signAccessToken(key, ISSUER, { userId: id, email, sessionId: family });
	return { id, email, accessToken, refreshToken };
}

/** A license owned by `user` (through the operator route); its key and id. */
export async function ownedLicense(user: SessionUser): Promise<{ id: string; key: string }> {
	const res = await call<{ license_key: string; license: { id: string } }>(
		"/api/v1/admin/licenses",
		{ json: { plan: "professional", owner_email: user.email }, admin: true },
	);
	if (res.status !== 201) throw new Error(`create license failed: ${res.status} ${res.text}`);
	return { id: res.body.license.id, key: res.body.license_key };
}
