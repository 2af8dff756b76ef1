/**
 * What a logged-in owner does with their licenses. Every query is scoped by owner, so another
 * user's license or activation is simply not found (404, never 403: no existence leak).
 */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import type { Queryable } from "../db/client";
import { activations, licenses } from "../db/schema";
import { apiError } from "../errors";
import { evaluateLicense } from "../kernel/rules";
import { type ActivateResult, activateById, type MachineInput } from "./activate";
import type { LicenseContext } from "./context";
import { type LicenseRow, listOwnedLicenses, liveActivationsOf, newLicenseKey } from "./queries";
import { activationView, licenseView, type OwnedLicense } from "./views";

/** Licenses with their live activations; keys appear only as their last 4 characters. */
export async function listOwned(ctx: LicenseContext, userId: string): Promise<OwnedLicense[]> {
	const owned = await listOwnedLicenses(ctx.db, userId);
	if (owned.length === 0) return [];
	const acts = await ctx.db
		.select()
		.from(activations)
		.where(liveActivationsOf(owned))
		.orderBy(asc(activations.createdAt));
	return owned.map((l) => ({
		...licenseView(l),
		activations: acts.filter((a) => a.licenseId === l.id).map(activationView),
	}));
}

/** A new key for the owner's license; the old one stops working in the same statement. */
export async function reissueKey(
	ctx: LicenseContext,
	userId: string,
	licenseId: string,
): Promise<{ license_key: string }> {
	const { key, keyHash, keyLast4 } = await newLicenseKey(ctx.config);
	const done = await ctx.db.transaction(async (tx) => {
		const rows = await tx
			.update(licenses)
			.set({ keyHash, keyLast4, updatedAt: sql`now()` })
			.where(
				and(
					eq(licenses.id, licenseId),
					eq(licenses.ownerId, userId),
					sql`${licenses.status} <> 'revoked'`,
				),
			)
			.returning({ id: licenses.id });
		if (rows.length === 0) return false;
		await recordAudit(tx, ctx.meta, {
			action: "key_issued",
			result: "success",
			userId,
			licenseId,
			detail: { key_last4: keyLast4 },
		});
		return true;
	});
	if (!done) throw apiError("LICENSE_NOT_FOUND", "You have no license with this id.");
	return { license_key: key };
}

/** Frees a seat remotely (lost laptop). */
export async function freeActivation(
	ctx: LicenseContext,
	userId: string,
	licenseId: string,
	activationId: string,
): Promise<void> {
	const done = await ctx.db.transaction(async (tx) => {
		const rows = await tx.execute<{ id: string }>(sql`
			update activations a set deactivated_at = now()
			from licenses l
			where a.id = ${activationId} and a.license_id = ${licenseId} and a.deactivated_at is null
				and l.id = a.license_id and l.owner_id = ${userId}
			returning a.id`);
		if (rows.length === 0) return false;
		await recordAudit(tx, ctx.meta, {
			action: "license_deactivate",
			result: "success",
			userId,
			licenseId,
			detail: { activation_id: activationId, by: "owner" },
		});
		return true;
	});
	if (!done) throw apiError("ACTIVATION_NOT_FOUND", "You have no activation with this id.");
}

/**
 * Activates this machine on the caller's best license: one already holding this machine, else
 * a usable one with a free seat, else any usable one (which then answers with the limit), else
 * the first (which answers with why it cannot be used).
 */
export async function activateMine(
	ctx: LicenseContext,
	userId: string,
	input: MachineInput,
): Promise<ActivateResult> {
	const owned = await listOwnedLicenses(ctx.db, userId);
	if (owned.length === 0) {
		throw apiError(
			"LICENSE_NOT_FOUND",
			"You have no license yet. Buy one with `coditect upgrade`.",
		);
	}
	const counts = await ctx.db
		.select({
			licenseId: activations.licenseId,
			active: sql<number>`count(*)::int`,
			here: sql<boolean>`bool_or(${activations.hardwareId} = ${input.hardware_id})`,
		})
		.from(activations)
		.where(liveActivationsOf(owned))
		.groupBy(activations.licenseId);
	const now = ctx.now();
	const score = (l: LicenseRow): number => {
		const c = counts.find((x) => x.licenseId === l.id);
		if (!evaluateLicense(l, now).usable) return 0;
		if (c?.here) return 3;
		return (c?.active ?? 0) < l.maxActivations ? 2 : 1;
	};
	let best = owned[0] as LicenseRow;
	for (const l of owned) if (score(l) > score(best)) best = l;
	return activateById(ctx, best.id, input, userId);
}

/** Licenses granted to this address before it had an account now belong to the account. */
export async function claimLicensesByEmail(
	tx: Queryable,
	userId: string,
	email: string,
): Promise<void> {
	await tx
		.update(licenses)
		.set({ ownerId: userId, ownerEmail: null, updatedAt: sql`now()` })
		.where(and(eq(licenses.ownerEmail, email), isNull(licenses.ownerId)));
}
