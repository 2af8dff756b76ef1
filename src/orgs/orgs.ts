/** Creating organisations, listing the caller's, and the org dashboard. */
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import { activations, ciLeases, type OrgRole, orgMembers, orgs, users } from "../db/schema";
import { orgLicenseOf } from "../licenses/queries";
import {
	type ActivationView,
	activationView,
	type LicenseView,
	licenseView,
} from "../licenses/views";
import type { OrgContext } from "./context";
import { insertOrg } from "./create";
import { requireMember } from "./membership";

export interface OrgSummary {
	id: string;
	name: string;
	role: OrgRole;
	created_at: string;
}

export interface SeatUsage {
	total: number;
	used: number;
	/** Members beyond the seats bought (after a quantity was lowered): kept, but no one new joins. */
	over_by: number;
}

export interface OrgDashboard {
	id: string;
	name: string;
	license: (LicenseView & { seats: number }) | null;
	seats: SeatUsage;
	members: Array<{
		seat_id: string;
		user_id: string;
		email: string;
		role: OrgRole;
		joined_at: string;
		machines: ActivationView[];
	}>;
	ci: { limit: number; active: number; last_30_days: number };
}

export async function createOrg(
	ctx: OrgContext,
	userId: string,
	name: string,
): Promise<OrgSummary> {
	return ctx.db.transaction(async (tx) => {
		const id = await insertOrg(tx, name, userId);
		await recordAudit(tx, ctx.meta, {
			action: "org_create",
			result: "success",
			userId,
			detail: { org_id: id },
		});
		const [org] = await tx.select().from(orgs).where(eq(orgs.id, id));
		if (!org) throw new Error("org vanished after insert");
		return { id, name, role: "owner" as const, created_at: org.createdAt.toISOString() };
	});
}

export async function listMyOrgs(ctx: OrgContext, userId: string): Promise<OrgSummary[]> {
	const rows = await ctx.db
		.select({ id: orgs.id, name: orgs.name, role: orgMembers.role, createdAt: orgs.createdAt })
		.from(orgMembers)
		.innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
		.where(eq(orgMembers.userId, userId))
		.orderBy(asc(orgs.createdAt), asc(orgs.id));
	return rows.map((r) => ({
		id: r.id,
		name: r.name,
		role: r.role,
		created_at: r.createdAt.toISOString(),
	}));
}

/** What a member sees: who holds which seat, their machines, seats and CI slots. */
export async function orgDashboard(
	ctx: OrgContext,
	orgId: string,
	userId: string,
): Promise<OrgDashboard> {
	await requireMember(ctx.db, orgId, userId);
	const now = ctx.now();
	const [org] = await ctx.db.select().from(orgs).where(eq(orgs.id, orgId));
	if (!org) throw new Error("member of a missing org");
	const license = await orgLicenseOf(ctx.db, orgId, now);
	const members = await ctx.db
		.select({
			id: orgMembers.id,
			userId: orgMembers.userId,
			email: users.email,
			role: orgMembers.role,
			createdAt: orgMembers.createdAt,
		})
		.from(orgMembers)
		.innerJoin(users, eq(users.id, orgMembers.userId))
		.where(eq(orgMembers.orgId, orgId))
		.orderBy(asc(orgMembers.createdAt), asc(orgMembers.id));
	const machines =
		members.length === 0
			? []
			: await ctx.db
					.select()
					.from(activations)
					.where(
						and(
							inArray(
								activations.memberId,
								members.map((m) => m.id),
							),
							isNull(activations.deactivatedAt),
						),
					)
					.orderBy(asc(activations.createdAt));
	const [ci] = await ctx.db
		.select({
			active: sql<number>`count(*) filter (where ${ciLeases.releasedAt} is null and ${ciLeases.expiresAt} > now())::int`,
			month: sql<number>`count(*)::int`,
		})
		.from(ciLeases)
		.where(and(eq(ciLeases.orgId, orgId), sql`${ciLeases.createdAt} > now() - interval '30 days'`));
	return {
		id: org.id,
		name: org.name,
		license: license ? { ...licenseView(license), seats: license.seats } : null,
		seats: {
			total: license?.seats ?? 0,
			used: members.length,
			over_by: Math.max(0, members.length - (license?.seats ?? 0)),
		},
		members: members.map((m) => ({
			seat_id: m.id,
			user_id: m.userId,
			email: m.email,
			role: m.role,
			joined_at: m.createdAt.toISOString(),
			machines: machines.filter((a) => a.memberId === m.id).map(activationView),
		})),
		ci: {
			limit: license?.entitlements.ci_runners ?? 0,
			active: ci?.active ?? 0,
			last_30_days: ci?.month ?? 0,
		},
	};
}
