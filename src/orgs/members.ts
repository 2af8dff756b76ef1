/**
 * Changing roles and removing members. Every change locks the org row first, so two owners
 * demoting each other at once cannot leave the org without one.
 */
import { and, count, eq } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import type { Queryable } from "../db/client";
import { type OrgRole, orgMembers, orgs } from "../db/schema";
import { apiError } from "../errors";
import { enqueue } from "../webhooks/outbox";
import type { OrgContext } from "./context";
import { MANAGERS, requireMember } from "./membership";

async function lockOrg(tx: Queryable, orgId: string): Promise<void> {
	await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, orgId)).for("update");
}

async function targetOf(tx: Queryable, orgId: string, userId: string) {
	const [target] = await tx
		.select()
		.from(orgMembers)
		.where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.userId, userId)))
		.for("update");
	if (!target) throw apiError("NOT_FOUND", "No member of this organisation has this user id.");
	return target;
}

async function ownerCount(tx: Queryable, orgId: string): Promise<number> {
	const [row] = await tx
		.select({ n: count() })
		.from(orgMembers)
		.where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.role, "owner")));
	return row?.n ?? 0;
}

export async function changeRole(
	ctx: OrgContext,
	orgId: string,
	actorId: string,
	memberUserId: string,
	role: OrgRole,
): Promise<{ user_id: string; role: OrgRole }> {
	return ctx.db.transaction(async (tx) => {
		const actor = await requireMember(tx, orgId, actorId, MANAGERS);
		await lockOrg(tx, orgId);
		const target = await targetOf(tx, orgId, memberUserId);
		// Owners are made and unmade only by owners.
		if ((role === "owner" || target.role === "owner") && actor.role !== "owner") {
			throw apiError("FORBIDDEN", "Only an owner can grant or take away the owner role.");
		}
		if (target.role === "owner" && role !== "owner" && (await ownerCount(tx, orgId)) <= 1) {
			throw apiError(
				"CONFLICT",
				"The last owner cannot step down; make someone else an owner first.",
			);
		}
		await tx.update(orgMembers).set({ role }).where(eq(orgMembers.id, target.id));
		await recordAudit(tx, ctx.meta, {
			action: "org_role_change",
			result: role,
			userId: actorId,
			detail: { org_id: orgId, member: memberUserId, from: target.role },
		});
		return { user_id: memberUserId, role };
	});
}

/**
 * Frees the member's seat and every machine on it at once. Managers remove others (admins not
 * owners); anyone may leave; the last owner may not.
 */
export async function removeMember(
	ctx: OrgContext,
	orgId: string,
	actorId: string,
	memberUserId: string,
): Promise<{ machines_freed: number }> {
	return ctx.db.transaction(async (tx) => {
		const self = actorId === memberUserId;
		const actor = await requireMember(tx, orgId, actorId, self ? undefined : MANAGERS);
		await lockOrg(tx, orgId);
		// Locked: an activation under this seat in flight finishes first, and is freed below.
		const target = await targetOf(tx, orgId, memberUserId);
		if (target.role === "owner" && !self && actor.role !== "owner") {
			throw apiError("FORBIDDEN", "Only an owner can remove an owner.");
		}
		if (target.role === "owner" && (await ownerCount(tx, orgId)) <= 1) {
			throw apiError("CONFLICT", "The last owner cannot leave; make someone else an owner first.");
		}
		const freed = await ctx.licenses.freeSeatMachines(tx, target.id);
		await tx.delete(orgMembers).where(eq(orgMembers.id, target.id));
		await enqueue(tx, {
			type: "seat.released",
			orgId,
			data: {
				seat_id: target.id,
				org_id: orgId,
				user_id: memberUserId,
				role: target.role,
				reason: self ? "left" : "removed",
				machines_freed: freed,
			},
		});
		await recordAudit(tx, ctx.meta, {
			action: "org_member_remove",
			result: "success",
			userId: actorId,
			detail: { org_id: orgId, member: memberUserId, seat_id: target.id, machines_freed: freed },
		});
		return { machines_freed: freed };
	});
}
