/**
 * Workload identity trust rules: an org admin says which CI provider's OIDC ID tokens may
 * lease the org's runner slots — issuer, audience, and claim conditions (exact values or `*`
 * globs), e.g. GitHub Actions with `repository_owner = acme` and `repository = acme/*`.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import { ciTrustRules } from "../db/schema";
import { apiError } from "../errors";
import { newId } from "../ids";
import { isAcceptableIssuer } from "../issuer-url";
import { MANAGERS, requireMember } from "../orgs/membership";
import type { CiDeps } from "./deps";

export interface TrustRuleView {
	id: string;
	name: string;
	issuer: string;
	audience: string;
	conditions: Record<string, string>;
	created_at: string;
	revoked_at: string | null;
}

type RuleRow = typeof ciTrustRules.$inferSelect;

function view(row: RuleRow): TrustRuleView {
	return {
		id: row.id,
		name: row.name,
		issuer: row.issuer,
		audience: row.audience,
		conditions: row.conditions,
		created_at: row.createdAt.toISOString(),
		revoked_at: row.revokedAt?.toISOString() ?? null,
	};
}

/**
 * A rule must pin at least one claim exactly: the big CI issuers sign tokens for every
 * customer alike, so a rule of globs alone (`repository = *`) would trust the whole world.
 */
export function pinsAnIdentity(conditions: Record<string, string>): boolean {
	return Object.values(conditions).some((v) => !v.includes("*"));
}

/** `*` matches any run of characters (`acme/*` matches `acme/widgets`); the rest is literal. */
export function globMatches(pattern: string, value: string): boolean {
	const parts = pattern.split("*");
	if (parts.length === 1) return pattern === value;
	const first = parts[0] ?? "";
	const last = parts[parts.length - 1] ?? "";
	if (!value.startsWith(first) || value.length < first.length + last.length) return false;
	if (!value.endsWith(last)) return false;
	let at = first.length;
	const end = value.length - last.length;
	for (const middle of parts.slice(1, -1)) {
		const found = value.indexOf(middle, at);
		if (found < 0 || found + middle.length > end) return false;
		at = found + middle.length;
	}
	return true;
}

/** Every condition holds for the token's claims (strings, or numbers/booleans as text). */
export function conditionsHold(
	conditions: Record<string, string>,
	claims: Record<string, unknown>,
): boolean {
	for (const [claim, pattern] of Object.entries(conditions)) {
		const value = claims[claim];
		const text =
			typeof value === "string"
				? value
				: typeof value === "number" || typeof value === "boolean"
					? String(value)
					: null;
		if (text === null || !globMatches(pattern, text)) return false;
	}
	return true;
}

export async function createTrustRule(
	deps: CiDeps,
	userId: string,
	orgId: string,
	input: {
		name: string;
		issuer: string;
		audience?: string | undefined;
		conditions: Record<string, string>;
	},
): Promise<TrustRuleView> {
	await requireMember(deps.db, orgId, userId, MANAGERS);
	if (!isAcceptableIssuer(input.issuer)) {
		throw apiError(
			"INVALID_REQUEST",
			"issuer must be an https URL (http only for 127.0.0.1/localhost) without query or fragment.",
			{ fields: ["issuer"] },
		);
	}
	if (!pinsAnIdentity(input.conditions)) {
		throw apiError(
			"INVALID_REQUEST",
			"conditions must pin at least one claim to an exact value (e.g. repository_owner), not only globs.",
			{ fields: ["conditions"] },
		);
	}
	return deps.db.transaction(async (tx) => {
		const [row] = await tx
			.insert(ciTrustRules)
			.values({
				id: newId("ctr"),
				orgId,
				name: input.name,
				issuer: input.issuer,
				// Tokens minted for us name our public URL, unless the admin chose another audience.
				audience: input.audience ?? deps.config.issuer,
				conditions: input.conditions,
				createdBy: userId,
			})
			.returning();
		if (!row) throw new Error("insert returned no row");
		await recordAudit(tx, deps.meta, {
			action: "ci_rule_created",
			result: "success",
			userId,
			detail: { org_id: orgId, rule_id: row.id, issuer: row.issuer },
		});
		return view(row);
	});
}

export async function listTrustRules(
	deps: CiDeps,
	userId: string,
	orgId: string,
): Promise<TrustRuleView[]> {
	await requireMember(deps.db, orgId, userId, MANAGERS);
	const rows = await deps.db
		.select()
		.from(ciTrustRules)
		.where(eq(ciTrustRules.orgId, orgId))
		.orderBy(asc(ciTrustRules.createdAt), asc(ciTrustRules.id));
	return rows.map(view);
}

export async function revokeTrustRule(
	deps: CiDeps,
	userId: string,
	orgId: string,
	ruleId: string,
): Promise<void> {
	await requireMember(deps.db, orgId, userId, MANAGERS);
	const [row] = await deps.db
		.select({ id: ciTrustRules.id, revokedAt: ciTrustRules.revokedAt })
		.from(ciTrustRules)
		.where(and(eq(ciTrustRules.id, ruleId), eq(ciTrustRules.orgId, orgId)));
	if (!row) throw apiError("NOT_FOUND", "No trust rule with this id in this organisation.");
	if (row.revokedAt) return;
	await deps.db.transaction(async (tx) => {
		await tx
			.update(ciTrustRules)
			.set({ revokedAt: new Date() })
			.where(and(eq(ciTrustRules.id, ruleId), isNull(ciTrustRules.revokedAt)));
		await recordAudit(tx, deps.meta, {
			action: "ci_rule_revoked",
			result: "success",
			userId,
			detail: { org_id: orgId, rule_id: ruleId },
		});
	});
}

/** Live rules for one issuer, across orgs: the candidates a presented ID token is tried against. */
export async function liveRulesFor(deps: CiDeps, issuer: string): Promise<RuleRow[]> {
	return deps.db
		.select()
		.from(ciTrustRules)
		.where(and(eq(ciTrustRules.issuer, issuer), isNull(ciTrustRules.revokedAt)))
		.orderBy(asc(ciTrustRules.createdAt), asc(ciTrustRules.id));
}
