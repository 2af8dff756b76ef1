/**
 * Reads and small writes shared by the license use cases, and the two rules every writer must
 * agree on: how a key is stored (one keyed hash, `config.hashLicenseKey`) and how many machines
 * a plan allows (one seat formula).
 */
import { and, asc, desc, eq, inArray, isNull, type SQL } from "drizzle-orm";
import type { Config } from "../config";
import type { Queryable } from "../db/client";
import {
	activations,
	type LicenseStatus,
	licenses,
	type PlanEntitlements,
	plans,
} from "../db/schema";
import { ApiError } from "../errors";
import { generateLicenseKey, licenseKeyLast4, parseLicenseKey } from "../kernel/license-key";
import { evaluateLicense } from "../kernel/rules";

/** A license with its plan's entitlements: what rules, tokens and views are made from. */
export interface LicenseRow {
	id: string;
	planId: string;
	status: LicenseStatus;
	expiresAt: Date | null;
	graceUntil: Date | null;
	maxActivations: number;
	keyLast4: string;
	entitlements: PlanEntitlements;
}

/** A license as raw SQL returns it (`l.*` and the plan's entitlements), before dates are parsed. */
export interface LicenseSqlRow {
	id: string;
	plan_id: string;
	status: LicenseStatus;
	expires_at: Date | string | null;
	grace_until: Date | string | null;
	max_activations: number;
	key_last4: string;
	entitlements: PlanEntitlements;
}

/** A timestamp from a raw statement: postgres.js gives a Date or, on some paths, a string. */
export function sqlDate(v: Date | string | null): Date | null {
	if (v === null) return null;
	return v instanceof Date ? v : new Date(v);
}

export function licenseFromSql(row: LicenseSqlRow): LicenseRow {
	return {
		id: row.id,
		planId: row.plan_id,
		status: row.status,
		expiresAt: sqlDate(row.expires_at),
		graceUntil: sqlDate(row.grace_until),
		maxActivations: row.max_activations,
		keyLast4: row.key_last4,
		entitlements: row.entitlements,
	};
}

/** The columns of a LicenseRow; select from licenses joined with plans. */
export const licenseRowColumns = {
	id: licenses.id,
	planId: licenses.planId,
	status: licenses.status,
	expiresAt: licenses.expiresAt,
	graceUntil: licenses.graceUntil,
	maxActivations: licenses.maxActivations,
	keyLast4: licenses.keyLast4,
	entitlements: plans.entitlements,
};

/**
 * Machines a plan allows when nobody set a limit by hand: seats × activations per seat, where
 * seats are those bought (`seats`, team plans) or else the plan's own.
 */
export function maxActivationsFor(
	entitlements: PlanEntitlements,
	seats: number | null = null,
): number {
	return seatsOf({ seats, entitlements }) * entitlements.activations_per_seat;
}

/** A new key, and the only two forms of it ever stored. The key itself is shown once. */
export async function newLicenseKey(
	config: Config,
): Promise<{ key: string; keyHash: string; keyLast4: string }> {
	const key = generateLicenseKey();
	return { key, keyHash: await config.hashLicenseKey(key), keyLast4: licenseKeyLast4(key) };
}

/**
 * The stored hash of a key as a client typed it; a key that fails its check is a 400 (thrown at
 * once). A string at once where the platform hashes synchronously (Node).
 */
export function keyHashOf(config: Config, licenseKey: string): string | Promise<string> {
	const parsed = parseLicenseKey(licenseKey);
	if (!parsed.ok) {
		throw new ApiError(
			"INVALID_REQUEST",
			"license_key is not a valid CODITECT license key; check it for typos.",
			{ extra: { fields: ["license_key"] } },
		);
	}
	return config.hashLicenseKey(parsed.key);
}

/**
 * Locks one license row for the rest of the transaction: activations, status changes and
 * Stripe updates of a license queue behind each other.
 */
export async function lockLicense(
	tx: Queryable,
	where: SQL | undefined,
): Promise<LicenseRow | undefined> {
	const [row] = await tx
		.select(licenseRowColumns)
		.from(licenses)
		.innerJoin(plans, eq(plans.id, licenses.planId))
		.where(where)
		.for("update", { of: licenses });
	return row;
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
export function liveActivationsOf(owned: readonly LicenseRow[]): SQL | undefined {
	return and(
		inArray(
			activations.licenseId,
			owned.map((l) => l.id),
		),
		isNull(activations.deactivatedAt),
	);
}

/** An org's license with its effective seat count (`licenses.seats`, else the plan's). */
export interface OrgLicense extends LicenseRow {
	orgId: string;
	seats: number;
}

/** Plans sold per seat to an organisation (Team, SMB, Enterprise). */
export function isOrgPlan(plan: { entitlements: PlanEntitlements }): boolean {
	return plan.entitlements.seats > 1;
}

/** Named seats a license grants: what was bought (Stripe quantity) or the plan's own count. */
export function seatsOf(license: { seats: number | null; entitlements: PlanEntitlements }): number {
	return license.seats ?? license.entitlements.seats;
}

/**
 * The license an org's seats and CI slots come from: a usable one if there is any (newest
 * first), else the newest, so a lapsed org still sees why. Locks it when `lock` is set.
 */
export async function orgLicenseOf(
	tx: Queryable,
	orgId: string,
	at: Date,
	opts: { lock?: boolean } = {},
): Promise<OrgLicense | undefined> {
	const query = tx
		.select({ ...licenseRowColumns, orgId: licenses.orgId, seats: licenses.seats })
		.from(licenses)
		.innerJoin(plans, eq(plans.id, licenses.planId))
		.where(eq(licenses.orgId, orgId))
		.orderBy(desc(licenses.createdAt), desc(licenses.id));
	const rows = opts.lock ? await query.for("update", { of: licenses }) : await query;
	const views = rows.map((r) => ({ ...r, orgId, seats: seatsOf(r) }));
	return views.find((l) => evaluateLicense(l, at).usable) ?? views[0];
}
