/**
 * What a logged-in owner does with their licenses (SPEC §3.3 owner routes). Every query is
 * scoped by owner, so another user's license or activation is simply not found (404, never
 * 403: no existence leak).
 */
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { type RequestMeta, recordAudit } from "../audit/log";
import type { Config } from "../config";
import type { Database, Queryable } from "../db/client";
import { activations, licenses, plans } from "../db/schema";
import { apiError } from "../errors";
import { generateLicenseKey, licenseKeyLast4 } from "../license/index";
import { evaluateLicense } from "../license/rules";
import {
	type ActivateResult,
	type ActivationView,
	activationView,
	type LicenseRow,
	type LicenseService,
	type LicenseView,
	licenseRowColumns,
	licenseView,
} from "./service";

export interface OwnedLicense extends LicenseView {
	activations: ActivationView[];
}

/** The owner's licenses, oldest first. */
export async function listOwnedLicenses(db: Queryable, userId: string): Promise<LicenseRow[]> {
	return db
		.select(licenseRowColumns)
		.from(licenses)
		.innerJoin(plans, eq(plans.id, licenses.planId))
		.where(eq(licenses.ownerId, userId))
		.orderBy(asc(licenses.createdAt), asc(licenses.id));
}

/** Activations still holding a seat on any of `owned`. */
function liveActivationsOf(owned: readonly LicenseRow[]) {
	return and(
		inArray(
			activations.licenseId,
			owned.map((l) => l.id),
		),
		isNull(activations.deactivatedAt),
	);
}

export type OwnerService = ReturnType<typeof ownerService>;

export function ownerService(deps: {
	db: Database;
	config: Config;
	meta: RequestMeta;
	licenses: LicenseService;
}) {
	const { db, config, meta } = deps;

	return {
		/** Licenses with their live activations; keys appear only as their last 4 characters. */
		async list(userId: string): Promise<OwnedLicense[]> {
			const owned = await listOwnedLicenses(db, userId);
			if (owned.length === 0) return [];
			const acts = await db
				.select()
				.from(activations)
				.where(liveActivationsOf(owned))
				.orderBy(asc(activations.createdAt));
			return owned.map((l) => ({
				...licenseView(l),
				activations: acts.filter((a) => a.licenseId === l.id).map(activationView),
			}));
		},

		/** A new key for the owner's license; the old one stops working in the same statement. */
		async reissueKey(userId: string, licenseId: string): Promise<{ license_key: string }> {
			const key = generateLicenseKey();
			const keyHash = await config.hashLicenseKey(key);
			const done = await db.transaction(async (tx) => {
				const rows = await tx
					.update(licenses)
					.set({ keyHash, keyLast4: licenseKeyLast4(key), updatedAt: sql`now()` })
					.where(
						and(
							eq(licenses.id, licenseId),
							eq(licenses.ownerId, userId),
							sql`${licenses.status} <> 'revoked'`,
						),
					)
					.returning({ id: licenses.id });
				if (rows.length === 0) return false;
				await recordAudit(tx, meta, {
					action: "key_issued",
					result: "success",
					userId,
					licenseId,
					detail: { key_last4: licenseKeyLast4(key) },
				});
				return true;
			});
			if (!done) throw apiError("LICENSE_NOT_FOUND", "You have no license with this id.");
			return { license_key: key };
		},

		/** Frees a seat remotely (lost laptop). */
		async freeActivation(userId: string, licenseId: string, activationId: string): Promise<void> {
			const done = await db.transaction(async (tx) => {
				const rows = await tx.execute<{ id: string }>(sql`
					update activations a set deactivated_at = now()
					from licenses l
					where a.id = ${activationId} and a.license_id = ${licenseId} and a.deactivated_at is null
						and l.id = a.license_id and l.owner_id = ${userId}
					returning a.id`);
				if (rows.length === 0) return false;
				await recordAudit(tx, meta, {
					action: "license_deactivate",
					result: "success",
					userId,
					licenseId,
					detail: { activation_id: activationId, by: "owner" },
				});
				return true;
			});
			if (!done) throw apiError("ACTIVATION_NOT_FOUND", "You have no activation with this id.");
		},

		/**
		 * Activates this machine on the caller's best license: one already holding this machine,
		 * else a usable one with a free seat, else any usable one (which then answers with the
		 * limit), else the first (which answers with why it cannot be used).
		 */
		async activateMine(
			userId: string,
			input: { hardware_id: string; hostname?: string | undefined; platform?: string | undefined },
		): Promise<ActivateResult> {
			const owned = await listOwnedLicenses(db, userId);
			if (owned.length === 0) {
				throw apiError(
					"LICENSE_NOT_FOUND",
					"You have no license yet. Buy one with `coditect upgrade`.",
				);
			}
			const counts = await db
				.select({
					licenseId: activations.licenseId,
					active: sql<number>`count(*)::int`,
					here: sql<boolean>`bool_or(${activations.hardwareId} = ${input.hardware_id})`,
				})
				.from(activations)
				.where(liveActivationsOf(owned))
				.groupBy(activations.licenseId);
			const now = new Date();
			const score = (l: LicenseRow): number => {
				const c = counts.find((x) => x.licenseId === l.id);
				if (!evaluateLicense(l, now).usable) return 0;
				if (c?.here) return 3;
				return (c?.active ?? 0) < l.maxActivations ? 2 : 1;
			};
			let best = owned[0] as LicenseRow;
			for (const l of owned) if (score(l) > score(best)) best = l;
			return deps.licenses.activateById(best.id, input, userId);
		},
	};
}
