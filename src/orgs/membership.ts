/**
 * Who may do what in an org. A caller who is not a member gets 404 (the org does not exist for
 * them); a member without the role gets 403 FORBIDDEN.
 */
import { and, eq } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { type OrgRole, orgMembers } from "../db/schema";
import { apiError } from "../errors";

export interface Membership {
	/** The seat id (`seat_…`). */
	id: string;
	orgId: string;
	userId: string;
	role: OrgRole;
}

/** Roles that manage an org: invite, remove, change roles, CI keys and trust rules. */
export const MANAGERS: readonly OrgRole[] = ["owner", "admin"];

export async function membershipOf(
	db: Queryable,
	orgId: string,
	userId: string,
): Promise<Membership | undefined> {
	const [row] = await db
		.select({
			id: orgMembers.id,
			orgId: orgMembers.orgId,
			userId: orgMembers.userId,
			role: orgMembers.role,
		})
		.from(orgMembers)
		.where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.userId, userId)));
	return row;
}

/** The caller's membership, holding one of `roles` (any role when omitted). */
export async function requireMember(
	db: Queryable,
	orgId: string,
	userId: string,
	roles?: readonly OrgRole[],
): Promise<Membership> {
	const member = await membershipOf(db, orgId, userId);
	if (!member) throw apiError("NOT_FOUND", "You are not a member of an organisation with this id.");
	if (roles && !roles.includes(member.role)) {
		throw apiError("FORBIDDEN", `This needs the ${roles.join(" or ")} role in the organisation.`);
	}
	return member;
}
