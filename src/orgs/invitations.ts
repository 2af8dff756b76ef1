/**
 * Invitations: an emailed single-use code (7 days) that takes a seat when accepted. Seats
 * never exceed the license's: accepting locks the org row, so concurrent accepts queue and
 * each counts the seats the previous ones took.
 */
import { and, eq } from "drizzle-orm";
import { mails } from "../accounts/mailer";
import { type AuditEvent, recordAudit } from "../audit/log";
import { type OrgRole, orgInvitations, orgMembers, orgs } from "../db/schema";
import { apiError } from "../errors";
import { newId } from "../ids";
import { hmacHex } from "../keyed-hash";
import { enqueue } from "../webhooks/outbox";
import type { OrgContext } from "./context";
import { seatData } from "./create";
import { MANAGERS, requireMember } from "./membership";
import type { OrgSummary } from "./orgs";
import { lockOrgForSeats, seatCount, seatLimitError } from "./seats";

export const INVITATION_DAYS = 7;

export interface InvitationView {
	id: string;
	email: string;
	role: OrgRole;
	expires_at: string;
}

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `ORG-XXXXX-XXXXX-XXXXX-XXXXX`: 100 random bits in Crockford base32. */
function newInvitationCode(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(20));
	let s = "";
	for (const b of bytes) s += ALPHABET[b & 31];
	return `ORG-${s.match(/.{5}/g)?.join("-") ?? s}`;
}

/** Keyed like license keys, so a dump alone cannot be turned into working codes. */
async function codeHash(pepper: CryptoKey, code: string): Promise<string> {
	const canonical = code.toUpperCase().replace(/[\s-]/g, "");
	return hmacHex(pepper, `org-invitation\u0000${canonical}`);
}

export async function inviteMember(
	ctx: OrgContext,
	orgId: string,
	actorId: string,
	input: { email: string; role: "admin" | "member" },
): Promise<InvitationView> {
	await requireMember(ctx.db, orgId, actorId, MANAGERS);
	const code = newInvitationCode();
	const email = input.email.trim().toLowerCase();
	const expiresAt = new Date(ctx.now().getTime() + INVITATION_DAYS * 86_400_000);
	const id = newId("oinv");
	const org = await ctx.db.transaction(async (tx) => {
		await tx.insert(orgInvitations).values({
			id,
			orgId,
			email,
			role: input.role,
			codeHash: await codeHash(ctx.config.pepper, code),
			invitedBy: actorId,
			expiresAt,
		});
		await recordAudit(tx, ctx.meta, {
			action: "org_invite",
			result: "success",
			userId: actorId,
			detail: { org_id: orgId, invitation_id: id, role: input.role },
		});
		const [row] = await tx.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, orgId));
		return row;
	});
	ctx.defer(
		ctx.mailer.send({
			to: email,
			...mails.orgInvitation(org?.name ?? "an organisation", input.role, code, INVITATION_DAYS),
		}),
	);
	return { id, email, role: input.role, expires_at: expiresAt.toISOString() };
}

/**
 * Takes a seat with an invitation addressed to the caller's email. Unknown, used, expired or
 * someone else's codes are all the same 400 INVALID_CODE.
 */
export async function acceptInvitation(
	ctx: OrgContext,
	user: { id: string; email: string },
	code: string,
): Promise<{ created: boolean; org: OrgSummary; seat_id: string }> {
	const hash = await codeHash(ctx.config.pepper, code);
	// A refusal throws, which rolls the transaction back: its audit row is written after that.
	const refused: { event?: AuditEvent } = {};
	try {
		return await accept(ctx, user, hash, (event) => {
			refused.event = event;
		});
	} catch (err) {
		if (refused.event) await recordAudit(ctx.db, ctx.meta, refused.event);
		throw err;
	}
}

async function accept(
	ctx: OrgContext,
	user: { id: string; email: string },
	hash: string,
	refuse: (event: AuditEvent) => void,
): Promise<{ created: boolean; org: OrgSummary; seat_id: string }> {
	return ctx.db.transaction(async (tx) => {
		const [invitation] = await tx
			.select()
			.from(orgInvitations)
			.where(eq(orgInvitations.codeHash, hash))
			.for("update");
		const now = ctx.now();
		if (
			!invitation ||
			invitation.usedAt !== null ||
			invitation.expiresAt.getTime() <= now.getTime() ||
			invitation.email !== user.email.toLowerCase()
		) {
			refuse({ action: "org_join", result: "INVALID_CODE", userId: user.id });
			throw apiError("INVALID_CODE", "This invitation code is wrong, used, expired or not yours.");
		}
		const org = await lockOrgForSeats(tx, invitation.orgId);
		if (!org) throw apiError("INVALID_CODE");
		const summary = (role: OrgRole): OrgSummary => ({
			id: org.id,
			name: org.name,
			role,
			created_at: org.createdAt.toISOString(),
		});
		const markUsed = () =>
			tx
				.update(orgInvitations)
				.set({ usedAt: now, usedBy: user.id })
				.where(eq(orgInvitations.id, invitation.id));
		const [existing] = await tx
			.select()
			.from(orgMembers)
			.where(and(eq(orgMembers.orgId, org.id), eq(orgMembers.userId, user.id)));
		if (existing) {
			await markUsed();
			return { created: false, org: summary(existing.role), seat_id: existing.id };
		}
		const count = await seatCount(tx, org.id, now);
		if (count.used >= count.seats) {
			refuse({
				action: "org_join",
				result: "SEAT_LIMIT_REACHED",
				userId: user.id,
				detail: { org_id: org.id, seats: count.seats, used: count.used },
			});
			throw seatLimitError(org.name, count);
		}
		const seatId = newId("seat");
		await tx
			.insert(orgMembers)
			.values({ id: seatId, orgId: org.id, userId: user.id, role: invitation.role });
		await markUsed();
		await enqueue(tx, {
			type: "seat.assigned",
			orgId: org.id,
			data: seatData(seatId, org.id, user.id, invitation.role, "invitation"),
		});
		await recordAudit(tx, ctx.meta, {
			action: "org_join",
			result: "success",
			userId: user.id,
			licenseId: count.licenseId,
			detail: { org_id: org.id, seat_id: seatId, invitation_id: invitation.id },
		});
		return { created: true, org: summary(invitation.role), seat_id: seatId };
	});
}
