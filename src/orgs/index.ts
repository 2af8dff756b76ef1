/** Organisations and named seats: the outline handlers see, built per request. */
import type { OrgRole } from "../db/schema";
import type { OrgContext } from "./context";
import { acceptInvitation, type InvitationView, inviteMember } from "./invitations";
import { changeRole, removeMember } from "./members";
import { createOrg, listMyOrgs, type OrgDashboard, type OrgSummary, orgDashboard } from "./orgs";

export type { OrgContext } from "./context";
export type { InvitationView } from "./invitations";
export type { OrgDashboard, OrgSummary, SeatUsage } from "./orgs";

export class Orgs {
	constructor(private readonly ctx: OrgContext) {}

	create(userId: string, name: string): Promise<OrgSummary> {
		return createOrg(this.ctx, userId, name);
	}
	listMine(userId: string): Promise<OrgSummary[]> {
		return listMyOrgs(this.ctx, userId);
	}
	dashboard(orgId: string, userId: string): Promise<OrgDashboard> {
		return orgDashboard(this.ctx, orgId, userId);
	}
	invite(
		orgId: string,
		actorId: string,
		input: { email: string; role: "admin" | "member" },
	): Promise<InvitationView> {
		return inviteMember(this.ctx, orgId, actorId, input);
	}
	accept(
		user: { id: string; email: string },
		code: string,
	): Promise<{ created: boolean; org: OrgSummary; seat_id: string }> {
		return acceptInvitation(this.ctx, user, code);
	}
	changeRole(orgId: string, actorId: string, memberUserId: string, role: OrgRole) {
		return changeRole(this.ctx, orgId, actorId, memberUserId, role);
	}
	removeMember(orgId: string, actorId: string, memberUserId: string) {
		return removeMember(this.ctx, orgId, actorId, memberUserId);
	}
}
