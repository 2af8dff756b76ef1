/**
 * Taking a named seat: the one rule shared by invitation accept and SSO login. The caller
 * holds the org row lock (`lockOrgForSeats`) for the rest of its transaction, so concurrent
 * joins queue and each counts the seats the previous ones took.
 */
import { eq, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { orgMembers, orgs } from "../db/schema";
import { type ApiError, apiError } from "../errors";
import { evaluateLicense } from "../kernel/rules";
import { orgLicenseOf } from "../licenses/queries";

/** Locks the org row (every seat change of the org serialises on it); undefined if none. */
export async function lockOrgForSeats(tx: Queryable, orgId: string) {
	const [org] = await tx.select().from(orgs).where(eq(orgs.id, orgId)).for("update");
	return org;
}

export interface SeatCount {
	/** Seats of the org's usable license; 0 without one. */
	seats: number;
	used: number;
	licenseId: string | null;
}

export async function seatCount(tx: Queryable, orgId: string, now: Date): Promise<SeatCount> {
	const license = await orgLicenseOf(tx, orgId, now);
	const seats = license && evaluateLicense(license, now).usable ? license.seats : 0;
	const [used] = await tx
		.select({ n: sql<number>`count(*)::int` })
		.from(orgMembers)
		.where(eq(orgMembers.orgId, orgId));
	return { seats, used: used?.n ?? 0, licenseId: license?.id ?? null };
}

/** 403 SEAT_LIMIT_REACHED with `{seats, used}`, worded for the person trying to join. */
export function seatLimitError(orgName: string, count: SeatCount): ApiError {
	return apiError(
		"SEAT_LIMIT_REACHED",
		count.seats === 0
			? `${orgName} has no active license with seats yet; ask its owner to buy one.`
			: `Every seat of ${orgName} is taken (${count.used} of ${count.seats}); ask its owner to add seats or free one.`,
		{ seats: count.seats, used: count.used },
	);
}
