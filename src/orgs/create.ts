/** Making an org, for the org routes, the operator and team-plan purchases alike. */
import { and, eq } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { type OrgRole, orgMembers, orgs, users } from "../db/schema";
import { newId } from "../ids";
import { enqueue } from "../webhooks/outbox";

/** A seat event's `data` (docs/webhooks.md §2): who holds which seat of which org. */
export function seatData(
	seatId: string,
	orgId: string,
	userId: string,
	role: OrgRole,
	via: "org_created" | "invitation" | "sso",
): Record<string, unknown> {
	return { seat_id: seatId, org_id: orgId, user_id: userId, role, via };
}

/** Inserts an org with `ownerId` as its first owner (holding the first seat). */
export async function insertOrg(tx: Queryable, name: string, ownerId: string): Promise<string> {
	const id = newId("org");
	const seatId = newId("seat");
	await tx.insert(orgs).values({ id, name });
	await tx.insert(orgMembers).values({ id: seatId, orgId: id, userId: ownerId, role: "owner" });
	// Only operator endpoints can hear this one: the org has none of its own yet.
	await enqueue(tx, {
		type: "seat.assigned",
		orgId: id,
		data: seatData(seatId, id, ownerId, "owner", "org_created"),
	});
	return id;
}

/**
 * The org a team-plan purchase licenses: the one checkout named (if the buyer still manages
 * it), else a new one owned by the buyer.
 */
export async function orgForPurchase(
	tx: Queryable,
	ownerId: string,
	requestedOrgId: string | null,
): Promise<string> {
	if (requestedOrgId) {
		const [m] = await tx
			.select({ role: orgMembers.role })
			.from(orgMembers)
			.where(and(eq(orgMembers.orgId, requestedOrgId), eq(orgMembers.userId, ownerId)));
		if (m && (m.role === "owner" || m.role === "admin")) return requestedOrgId;
	}
	const [owner] = await tx.select({ email: users.email }).from(users).where(eq(users.id, ownerId));
	const name = `${owner?.email.split("@")[0] ?? "My"}'s team`;
	return insertOrg(tx, name, ownerId);
}
