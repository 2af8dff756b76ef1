/**
 * What a logged-in owner does with their licenses. Every query is scoped by owner, so another
 * user's license or activation is simply not found (404, never 403: no existence leak).
 */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import type { Queryable } from "../db/client";
import { activations, licenses, orgMembers } from "../db/schema";
import { apiError } from "../errors";
import { evaluateLicense } from "../kernel/rules";
import {
	type ActivateResult,
	activateById,
	activationRemoved,
	type MachineInput,
	type SeatHolder,
} from "./activate";
import type { LicenseContext } from "./context";
import {
	type LicenseRow,
	listOwnedLicenses,
	liveActivationsOf,
	newLicenseKey,
	orgLicenseOf,
} from "./queries";
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

/** Frees a machine remotely (lost laptop): the license owner's, or a member's own on an org license. */
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
				and l.id = a.license_id
				and (l.owner_id = ${userId}
					or a.member_id in (select id from org_members where user_id = ${userId}))
			returning a.id`);
		if (rows.length === 0) return false;
		await recordAudit(tx, ctx.meta, {
			action: "license_deactivate",
			result: "success",
			userId,
			licenseId,
			detail: { activation_id: activationId, by: "owner" },
		});
		await activationRemoved(tx, licenseId, activationId);
		return true;
	});
	if (!done) throw apiError("ACTIVATION_NOT_FOUND", "You have no activation with this id.");
}

/**
 * Activates this machine on the caller's best license — their own, or an org's under their
 * seat: one already holding this machine, else a usable one with room, else any usable one
 * (which then answers with the limit), else the first (which answers with why it cannot be
 * used).
 */
export async function activateMine(
	ctx: LicenseContext,
	userId: string,
	input: MachineInput,
): Promise<ActivateResult> {
	const now = ctx.now();
	const candidates: Array<{ license: LicenseRow; seat?: SeatHolder }> = (
		await listOwnedLicenses(ctx.db, userId)
	).map((license) => ({ license }));
	const memberships = await ctx.db
		.select({ id: orgMembers.id, orgId: orgMembers.orgId })
		.from(orgMembers)
		.where(eq(orgMembers.userId, userId))
		.orderBy(asc(orgMembers.createdAt));
	for (const m of memberships) {
		const license = await orgLicenseOf(ctx.db, m.orgId, now);
		if (!license) continue;
		const seat = { org: m.orgId, seat: m.id, perSeat: license.entitlements.activations_per_seat };
		// The owner of an org license uses it under their seat too, like every member.
		const owned = candidates.find((c) => c.license.id === license.id);
		if (owned) owned.seat = seat;
		else candidates.push({ license, seat });
	}
	const first = candidates[0];
	if (!first) {
		throw apiError(
			"LICENSE_NOT_FOUND",
			"You have no license yet. Buy one with `coditect upgrade`.",
		);
	}
	const counts = await ctx.db
		.select({
			licenseId: activations.licenseId,
			memberId: activations.memberId,
			active: sql<number>`count(*)::int`,
			here: sql<boolean>`bool_or(${activations.hardwareId} = ${input.hardware_id})`,
		})
		.from(activations)
		.where(liveActivationsOf(candidates.map((c) => c.license)))
		.groupBy(activations.licenseId, activations.memberId);
	const score = ({ license, seat }: (typeof candidates)[number]): number => {
		if (!evaluateLicense(license, now).usable) return 0;
		const rows = counts.filter((x) => x.licenseId === license.id);
		if (rows.some((r) => r.here)) return 3;
		const total = rows.reduce((n, r) => n + r.active, 0);
		const mine = seat ? (rows.find((r) => r.memberId === seat.seat)?.active ?? 0) : 0;
		const room = total < license.maxActivations && (!seat || mine < seat.perSeat);
		return room ? 2 : 1;
	};
	let best = first;
	for (const c of candidates) if (score(c) > score(best)) best = c;
	return activateById(ctx, best.license.id, input, userId, best.seat);
}

/**
 * A member leaves or is removed: every machine on their seat is freed in the caller's
 * transaction, at once (not at the next validate).
 */
export async function freeSeatMachines(tx: Queryable, memberId: string): Promise<number> {
	const rows = await tx
		.update(activations)
		.set({ deactivatedAt: sql`now()` })
		.where(and(eq(activations.memberId, memberId), isNull(activations.deactivatedAt)))
		.returning({ id: activations.id, licenseId: activations.licenseId });
	for (const row of rows) await activationRemoved(tx, row.licenseId, row.id);
	return rows.length;
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
