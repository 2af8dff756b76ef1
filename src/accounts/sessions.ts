/**
 * Sessions: a short-lived access JWT plus an opaque refresh token. Refresh tokens are 256-bit
 * random strings stored only as SHA-256 hashes (no pepper needed at that entropy), rotate on
 * every use, and belong to a family (one login) whose absolute end is fixed at login.
 */
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Config } from "../config";
import type { Queryable } from "../db/client";
import { refreshTokens } from "../db/schema";
import { newId } from "../ids";
import { encodeBase64Url } from "../kernel/base64url";
import { ACCESS_TOKEN_TTL_S, signAccessToken } from "./access-token";

export const REFRESH_TOKEN_TTL_S = 90 * 24 * 3600;
const REFRESH_PREFIX = "cdr_";
/** `cdr_` + 43 base64url chars (32 bytes). */
const REFRESH_FORMAT = /^cdr_[A-Za-z0-9_-]{43}$/;

export interface SessionView {
	token_type: "Bearer";
	access_token: string;
	expires_in: number;
	refresh_token: string;
	refresh_expires_in: number;
	user: { id: string; email: string };
}

export interface SessionUser {
	id: string;
	email: string;
}

export function isRefreshTokenFormat(token: string): boolean {
	return REFRESH_FORMAT.test(token);
}

export async function hashRefreshToken(token: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
	return toHex(new Uint8Array(digest));
}

/**
 * Stores a new refresh token and signs an access token. Without `family` a new family starts
 * (a login); with it the token continues that family (a rotation) and keeps its end.
 */
export async function issueSession(
	tx: Queryable,
	config: Config,
	user: SessionUser,
	family?: { id: string; expiresAt: Date },
	now: Date = new Date(),
): Promise<SessionView> {
	const familyId = family?.id ?? newId("rtf");
	const expiresAt = family?.expiresAt ?? new Date(now.getTime() + REFRESH_TOKEN_TTL_S * 1000);
	const token = REFRESH_PREFIX + encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
	await tx.insert(refreshTokens).values({
		id: newId("rtk"),
		userId: user.id,
		familyId,
		tokenHash: await hashRefreshToken(token),
		expiresAt,
	});
	const accessToken = await signAccessToken(
		config.jwtKey,
		config.issuer,
		{ userId: user.id, email: user.email, sessionId: familyId },
		now,
	);
	return {
		token_type: "Bearer",
		access_token: accessToken,
		expires_in: ACCESS_TOKEN_TTL_S,
		refresh_token: token,
		refresh_expires_in: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
		user: { id: user.id, email: user.email },
	};
}

/** Revokes every live token of the given families of one user. */
export async function revokeFamilies(
	tx: Queryable,
	userId: string,
	familyIds: string[],
): Promise<void> {
	for (const familyId of new Set(familyIds)) {
		await tx
			.update(refreshTokens)
			.set({ revokedAt: sql`now()` })
			.where(
				and(
					eq(refreshTokens.familyId, familyId),
					eq(refreshTokens.userId, userId),
					isNull(refreshTokens.revokedAt),
				),
			);
	}
}

/**
 * Whether an access token's session (its refresh family) is still alive: logout and detected
 * replay end it, so a stolen access token dies with the family instead of living 15 minutes.
 */
export async function isSessionLive(db: Queryable, familyId: string): Promise<boolean> {
	const rows = await db
		.select({ id: refreshTokens.id })
		.from(refreshTokens)
		.where(
			and(
				eq(refreshTokens.familyId, familyId),
				isNull(refreshTokens.revokedAt),
				gt(refreshTokens.expiresAt, sql`now()`),
			),
		)
		.limit(1);
	return rows.length > 0;
}

function toHex(bytes: Uint8Array): string {
	let hex = "";
	for (const b of bytes) hex += b.toString(16).padStart(2, "0");
	return hex;
}
