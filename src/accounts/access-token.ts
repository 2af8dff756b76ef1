/**
 * Access tokens: short-lived JWTs (HS256 under JWT_SECRET) for the API. Verification pins the
 * algorithm, `typ`, `iss` and `aud`, so a license token, a refresh token or a token for
 * another audience is never accepted here.
 */
import { jwtVerify, SignJWT } from "jose";
import { decodeBase64Url } from "../kernel/base64url";

export const ACCESS_TOKEN_TTL_S = 900;
/** RFC 9068's media type for access tokens; differs from the license token's `typ`. */
export const ACCESS_TOKEN_TYPE = "at+jwt";
export const ACCESS_TOKEN_AUDIENCE = "coditect-api";

export interface AccessClaims {
	userId: string;
	email: string;
	/** The refresh-token family this access token was issued with (logout revokes it). */
	sessionId: string;
}

export async function importJwtSecret(secret: string): Promise<CryptoKey> {
	return crypto.subtle.importKey(
		"raw",
		new TextEncoder().encode(secret),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign", "verify"],
	);
}

export async function signAccessToken(
	key: CryptoKey,
	issuer: string,
	claims: AccessClaims,
	now: Date = new Date(),
): Promise<string> {
	const iat = Math.floor(now.getTime() / 1000);
	return new SignJWT({ email: claims.email, sid: claims.sessionId })
		.setProtectedHeader({ alg: "HS256", typ: ACCESS_TOKEN_TYPE })
		.setIssuer(issuer)
		.setAudience(ACCESS_TOKEN_AUDIENCE)
		.setSubject(claims.userId)
		.setJti(crypto.randomUUID())
		.setIssuedAt(iat)
		.setExpirationTime(iat + ACCESS_TOKEN_TTL_S)
		.sign(key);
}

/** Null for anything that is not a valid, current access token from this issuer. */
export async function verifyAccessToken(
	key: CryptoKey,
	issuer: string,
	token: string,
): Promise<AccessClaims | null> {
	if (token.length > 2048 || !isCanonicalCompactJws(token)) return null;
	try {
		const { payload } = await jwtVerify(token, key, {
			algorithms: ["HS256"],
			typ: ACCESS_TOKEN_TYPE,
			issuer,
			audience: ACCESS_TOKEN_AUDIENCE,
			requiredClaims: ["sub", "exp", "iat"],
			maxTokenAge: ACCESS_TOKEN_TTL_S + 60,
			clockTolerance: 5,
		});
		const { sub, email, sid } = payload;
		if (typeof sub !== "string" || typeof email !== "string" || typeof sid !== "string")
			return null;
		if ((payload.iat ?? 0) > Date.now() / 1000 + 300) return null;
		return { userId: sub, email, sessionId: sid };
	} catch {
		return null;
	}
}

/**
 * Three segments, each the one canonical base64url spelling of its bytes. jose decodes
 * leniently (unused trailing bits are ignored), so without this a token with a flipped
 * low bit in its last character would still verify: a second spelling of a valid token.
 */
function isCanonicalCompactJws(token: string): boolean {
	const parts = token.split(".");
	if (parts.length !== 3) return false;
	try {
		for (const part of parts) decodeBase64Url(part);
		return true;
	} catch {
		return false;
	}
}
