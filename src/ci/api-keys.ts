/**
 * Org API keys for CI (`cdt_ci_…`): 256 random bits, stored only as a keyed hash (HMAC-SHA-256
 * under the server pepper, domain-separated from license keys) plus the last 4 characters.
 * Shown in full once, in the answer that creates it.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import { orgApiKeys } from "../db/schema";
import { apiError } from "../errors";
import { newId } from "../ids";
import { encodeBase64Url } from "../kernel/base64url";
import { hmacHex } from "../keyed-hash";
import { MANAGERS, requireMember } from "../orgs/membership";
import type { CiDeps } from "./deps";

export const CI_API_KEY_PREFIX = "cdt_ci_";
/** `cdt_ci_` + 43 base64url characters (32 bytes). */
const API_KEY_SHAPE = /^cdt_ci_[A-Za-z0-9_-]{43}$/;

export interface ApiKeyView {
	id: string;
	name: string;
	key_last4: string;
	created_at: string;
	last_used_at: string | null;
	revoked_at: string | null;
}

type ApiKeyRow = typeof orgApiKeys.$inferSelect;

function view(row: ApiKeyRow): ApiKeyView {
	return {
		id: row.id,
		name: row.name,
		key_last4: row.keyLast4,
		created_at: row.createdAt.toISOString(),
		last_used_at: row.lastUsedAt?.toISOString() ?? null,
		revoked_at: row.revokedAt?.toISOString() ?? null,
	};
}

export function looksLikeApiKey(bearer: string): boolean {
	return bearer.startsWith(CI_API_KEY_PREFIX);
}

/** The stored form of a key. The label keeps these MACs apart from license-key hashes. */
export async function hashApiKey(pepper: CryptoKey, key: string): Promise<string> {
	return hmacHex(pepper, `ci-api-key\u0000${key}`);
}

export async function createApiKey(
	deps: CiDeps,
	userId: string,
	orgId: string,
	name: string,
): Promise<{ api_key: ApiKeyView; key: string }> {
	await requireMember(deps.db, orgId, userId, MANAGERS);
	const key = `${CI_API_KEY_PREFIX}${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
	const row = await deps.db.transaction(async (tx) => {
		const [inserted] = await tx
			.insert(orgApiKeys)
			.values({
				id: newId("cik"),
				orgId,
				name,
				keyHash: await hashApiKey(deps.config.pepper, key),
				keyLast4: key.slice(-4),
				createdBy: userId,
			})
			.returning();
		if (!inserted) throw new Error("insert returned no row");
		await recordAudit(tx, deps.meta, {
			action: "ci_key_created",
			result: "success",
			userId,
			detail: { org_id: orgId, key_id: inserted.id },
		});
		return inserted;
	});
	return { api_key: view(row), key };
}

export async function listApiKeys(
	deps: CiDeps,
	userId: string,
	orgId: string,
): Promise<ApiKeyView[]> {
	await requireMember(deps.db, orgId, userId, MANAGERS);
	const rows = await deps.db
		.select()
		.from(orgApiKeys)
		.where(eq(orgApiKeys.orgId, orgId))
		.orderBy(asc(orgApiKeys.createdAt), asc(orgApiKeys.id));
	return rows.map(view);
}

/** Revoking twice is fine (204 both times); another org's key is a 404. */
export async function revokeApiKey(
	deps: CiDeps,
	userId: string,
	orgId: string,
	keyId: string,
): Promise<void> {
	await requireMember(deps.db, orgId, userId, MANAGERS);
	await deps.db.transaction(async (tx) => {
		const [row] = await tx
			.select({ id: orgApiKeys.id, revokedAt: orgApiKeys.revokedAt })
			.from(orgApiKeys)
			.where(and(eq(orgApiKeys.id, keyId), eq(orgApiKeys.orgId, orgId)))
			.for("update");
		if (!row) throw apiError("NOT_FOUND", "No API key with this id in this organisation.");
		if (row.revokedAt) return;
		await tx
			.update(orgApiKeys)
			.set({ revokedAt: new Date() })
			.where(and(eq(orgApiKeys.id, keyId), isNull(orgApiKeys.revokedAt)));
		await recordAudit(tx, deps.meta, {
			action: "ci_key_revoked",
			result: "success",
			userId,
			detail: { org_id: orgId, key_id: keyId },
		});
	});
}

/**
 * The org an API key belongs to, or why not (`unknown`, `revoked`). `last_used_at` moves at
 * most once a minute, so a busy key does not turn every lease into a write on one hot row.
 */
export async function authenticateApiKey(
	deps: CiDeps,
	key: string,
): Promise<{ ok: true; orgId: string; keyId: string } | { ok: false; reason: string }> {
	if (!API_KEY_SHAPE.test(key)) return { ok: false, reason: "malformed_api_key" };
	const keyHash = await hashApiKey(deps.config.pepper, key);
	const [row] = await deps.db
		.select({
			id: orgApiKeys.id,
			orgId: orgApiKeys.orgId,
			revokedAt: orgApiKeys.revokedAt,
			lastUsedAt: orgApiKeys.lastUsedAt,
		})
		.from(orgApiKeys)
		.where(eq(orgApiKeys.keyHash, keyHash));
	if (!row) return { ok: false, reason: "unknown_api_key" };
	if (row.revokedAt) return { ok: false, reason: "revoked_api_key" };
	const now = new Date();
	if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
		await deps.db.update(orgApiKeys).set({ lastUsedAt: now }).where(eq(orgApiKeys.id, row.id));
	}
	return { ok: true, orgId: row.orgId, keyId: row.id };
}
