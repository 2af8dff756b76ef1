/** What an operator does with licenses: comp, pilot and invoiced licenses; status changes. */
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import type { Queryable } from "../db/client";
import { type LicenseStatus, licenses, orgs, plans, users } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { newId } from "../ids";
import { orgForPurchase } from "../orgs/create";
import { enqueue } from "../webhooks/outbox";
import type { LicenseContext } from "./context";
import { isOrgPlan, lockLicense, maxActivationsFor, newLicenseKey } from "./queries";
import { type LicenseView, licenseView } from "./views";

export interface CreateLicenseInput {
	plan: string;
	owner_email?: string | undefined;
	max_activations?: number | undefined;
	expires_at?: string | undefined;
	/** Team plans: seats granted (default the plan's) and the org to license. */
	seats?: number | undefined;
	org_id?: string | undefined;
}

export type StatusAction = "suspend" | "reinstate" | "revoke";

/** What an operator may change on a license; absent = unchanged, null = cleared. */
export interface UpdateLicenseInput {
	plan?: string | undefined;
	max_activations?: number | undefined;
	/** null = perpetual. */
	expires_at?: string | null | undefined;
	/** null = no owner; an address without an account waits for it, as at creation. */
	owner_email?: string | null | undefined;
}

/** A license made by hand. The key is returned once, here. */
export async function createLicense(
	ctx: LicenseContext,
	input: CreateLicenseInput,
): Promise<{ license: LicenseView; license_key: string }> {
	const plan = await ctx.db.query.plans.findFirst({ where: eq(plans.id, input.plan) });
	if (!plan) {
		throw new ApiError("INVALID_REQUEST", "Unknown plan.", { extra: { fields: ["plan"] } });
	}
	const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
	if (expiresAt && expiresAt.getTime() <= ctx.now().getTime()) {
		throw new ApiError("INVALID_REQUEST", "expires_at must be in the future.", {
			extra: { fields: ["expires_at"] },
		});
	}
	const email = input.owner_email?.toLowerCase();
	const { key, keyHash, keyLast4 } = await newLicenseKey(ctx.config);
	const id = newId("lic");
	if (!isOrgPlan(plan) && (input.seats !== undefined || input.org_id !== undefined)) {
		throw new ApiError("INVALID_REQUEST", `The ${plan.name} plan is for one person.`, {
			extra: { fields: input.seats !== undefined ? ["seats"] : ["org_id"] },
		});
	}
	const seats = isOrgPlan(plan) ? (input.seats ?? null) : null;
	const maxActivations = input.max_activations ?? maxActivationsFor(plan.entitlements, seats);
	await ctx.db.transaction(async (tx) => {
		const owner = email
			? await tx.query.users.findFirst({ where: eq(users.email, email), columns: { id: true } })
			: undefined;
		if (input.org_id) {
			const [org] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, input.org_id));
			if (!org) {
				throw new ApiError("INVALID_REQUEST", "No organisation has this id.", {
					extra: { fields: ["org_id"] },
				});
			}
		}
		// A team license for a known user without a named org gets a new org they own.
		const orgId =
			input.org_id ?? (isOrgPlan(plan) && owner ? await orgForPurchase(tx, owner.id, null) : null);
		await tx.insert(licenses).values({
			id,
			keyHash,
			keyLast4,
			planId: plan.id,
			ownerId: owner?.id ?? null,
			ownerEmail: owner ? null : (email ?? null),
			orgId,
			seats,
			maxActivations,
			expiresAt,
			source: "admin",
		});
		await recordAudit(tx, ctx.meta, {
			action: "license_create",
			result: "success",
			licenseId: id,
			userId: owner?.id ?? null,
			detail: { plan: plan.id, source: "admin", ...(orgId ? { org_id: orgId } : {}) },
		});
		await enqueue(tx, {
			type: "license.created",
			orgId,
			data: { id, plan: plan.id, status: "active", expires_at: expiresAt?.toISOString() ?? null },
		});
	});
	return {
		license: licenseView({
			id,
			planId: plan.id,
			status: "active",
			expiresAt,
			graceUntil: null,
			maxActivations,
			keyLast4,
			entitlements: plan.entitlements,
		}),
		license_key: key,
	};
}

/** Suspend / reinstate / revoke; takes effect on the next validate. Revocation is final. */
export async function setLicenseStatus(
	ctx: LicenseContext,
	licenseId: string,
	action: StatusAction,
): Promise<LicenseView> {
	return ctx.db.transaction(async (tx) => {
		const license = await lockLicense(tx, eq(licenses.id, licenseId));
		if (!license) throw apiError("LICENSE_NOT_FOUND", "No license has this id.");
		if (license.status === "revoked" && action !== "revoke") {
			throw apiError("CONFLICT", "A revoked license cannot be reinstated.");
		}
		const next: LicenseStatus =
			action === "suspend" ? "suspended" : action === "revoke" ? "revoked" : "active";
		await tx
			.update(licenses)
			.set({ status: next, updatedAt: ctx.now() })
			.where(eq(licenses.id, licenseId));
		await recordAudit(tx, ctx.meta, {
			action: "license_status_change",
			result: next,
			licenseId,
			detail: { from: license.status, operator_action: action },
		});
		if (next !== license.status) await licenseStatusEvent(tx, licenseId, license.status, next);
		return licenseView({ ...license, status: next });
	});
}

/**
 * Edits plan, activation limit, expiry or owner in one audited transaction; the audit row
 * records each changed field's old and new value. Moving a license between a personal and an
 * org plan is refused: seats and org membership would not follow.
 */
export async function updateLicense(
	ctx: LicenseContext,
	licenseId: string,
	input: UpdateLicenseInput,
): Promise<LicenseView> {
	return ctx.db.transaction(async (tx) => {
		const license = await lockLicense(tx, eq(licenses.id, licenseId));
		if (!license) throw apiError("LICENSE_NOT_FOUND", "No license has this id.");
		const [current] = await tx
			.select({
				ownerId: licenses.ownerId,
				ownerEmail: licenses.ownerEmail,
				ownerAddress: users.email,
			})
			.from(licenses)
			.leftJoin(users, eq(users.id, licenses.ownerId))
			.where(eq(licenses.id, licenseId));
		const set: Partial<typeof licenses.$inferInsert> = {};
		const changes: Record<string, { from: unknown; to: unknown }> = {};
		let entitlements = license.entitlements;
		if (input.plan !== undefined && input.plan !== license.planId) {
			const [from, to] = await Promise.all([
				tx.query.plans.findFirst({ where: eq(plans.id, license.planId) }),
				tx.query.plans.findFirst({ where: eq(plans.id, input.plan) }),
			]);
			if (!to || !from) {
				throw new ApiError("INVALID_REQUEST", "Unknown plan.", { extra: { fields: ["plan"] } });
			}
			if (isOrgPlan(to) !== isOrgPlan(from)) {
				throw new ApiError(
					"INVALID_REQUEST",
					"A license cannot move between a personal and an organisation plan.",
					{ extra: { fields: ["plan"] } },
				);
			}
			set.planId = to.id;
			entitlements = to.entitlements;
			changes.plan = { from: license.planId, to: to.id };
		}
		if (input.max_activations !== undefined && input.max_activations !== license.maxActivations) {
			set.maxActivations = input.max_activations;
			changes.max_activations = { from: license.maxActivations, to: input.max_activations };
		}
		if (input.expires_at !== undefined) {
			const next = input.expires_at === null ? null : new Date(input.expires_at);
			if (next && next.getTime() <= ctx.now().getTime()) {
				throw new ApiError("INVALID_REQUEST", "expires_at must be in the future.", {
					extra: { fields: ["expires_at"] },
				});
			}
			if ((next?.getTime() ?? null) !== (license.expiresAt?.getTime() ?? null)) {
				set.expiresAt = next;
				changes.expires_at = {
					from: license.expiresAt?.toISOString() ?? null,
					to: next?.toISOString() ?? null,
				};
			}
		}
		if (input.owner_email !== undefined) {
			const email = input.owner_email?.toLowerCase() ?? null;
			const was = current?.ownerAddress ?? current?.ownerEmail ?? null;
			if (email !== was) {
				const owner = email
					? await tx.query.users.findFirst({ where: eq(users.email, email), columns: { id: true } })
					: undefined;
				set.ownerId = owner?.id ?? null;
				set.ownerEmail = owner ? null : email;
				changes.owner = { from: was, to: email };
			}
		}
		if (Object.keys(changes).length > 0) {
			await tx
				.update(licenses)
				.set({ ...set, updatedAt: ctx.now() })
				.where(eq(licenses.id, licenseId));
			await recordAudit(tx, ctx.meta, {
				action: "license_update",
				result: "success",
				licenseId,
				userId: set.ownerId ?? current?.ownerId ?? null,
				detail: { changes },
			});
			// Same transaction as the edit: subscribers hear of it exactly when it committed.
			await enqueue(tx, {
				type: "license.updated",
				orgId: { ofLicense: licenseId },
				data: { id: licenseId, changes },
			});
		}
		return licenseView({
			...license,
			planId: set.planId ?? license.planId,
			maxActivations: set.maxActivations ?? license.maxActivations,
			expiresAt: set.expiresAt !== undefined ? set.expiresAt : license.expiresAt,
			entitlements,
		});
	});
}

/**
 * `license.suspended` / `license.revoked` when a change (operator or Stripe) moves a license
 * there; other moves (reinstated, past_due, expired) have no event type yet.
 */
export async function licenseStatusEvent(
	tx: Queryable,
	licenseId: string,
	from: LicenseStatus,
	to: LicenseStatus,
): Promise<void> {
	if (to !== "suspended" && to !== "revoked") return;
	await enqueue(tx, {
		type: to === "suspended" ? "license.suspended" : "license.revoked",
		orgId: { ofLicense: licenseId },
		data: { id: licenseId, status: to, previous_status: from },
	});
}
