/**
 * Licenses as Stripe subscriptions make them. Billing verifies, dedupes, locks the
 * subscription and decides the lifecycle (src/billing/lifecycle.ts); these write the result.
 */
import { eq } from "drizzle-orm";
import { type RequestMeta, recordAudit } from "../audit/log";
import type { Config } from "../config";
import type { Queryable } from "../db/client";
import { type LicenseStatus, licenses, type plans } from "../db/schema";
import { newId } from "../ids";
import { enqueue } from "../webhooks/outbox";
import { licenseStatusEvent } from "./operator";
import { maxActivationsFor, newLicenseKey } from "./queries";

type Plan = typeof plans.$inferSelect;

/** The license a subscription pays for, as the lifecycle rule needs it. */
export interface SubscriptionLicense {
	id: string;
	status: LicenseStatus;
	ownerId: string | null;
	orgId: string | null;
	planId: string;
	stripeOpenDisputes: string[];
	expiresAt: Date | null;
	graceUntil: Date | null;
}

/** Where a subscription leaves its license, computed by billing from Stripe's current objects. */
export interface StripeLicenseState {
	subscriptionId: string;
	customerId: string | null;
	stripeStatus: string;
	openDisputes: string[];
	status: LicenseStatus;
	expiresAt: Date | null;
	graceUntil: Date | null;
	/** Named seats bought (the subscription's quantity) on an org plan; null otherwise. */
	seats: number | null;
}

/** Locks the subscription's license row (if any) for the caller's transaction. */
export async function lockLicenseOfSubscription(
	tx: Queryable,
	subscriptionId: string,
): Promise<SubscriptionLicense | undefined> {
	const [row] = await tx
		.select({
			id: licenses.id,
			status: licenses.status,
			ownerId: licenses.ownerId,
			orgId: licenses.orgId,
			planId: licenses.planId,
			stripeOpenDisputes: licenses.stripeOpenDisputes,
			expiresAt: licenses.expiresAt,
			graceUntil: licenses.graceUntil,
		})
		.from(licenses)
		.where(eq(licenses.stripeSubscriptionId, subscriptionId))
		.for("update");
	return row;
}

function columnsOf(state: StripeLicenseState) {
	return {
		status: state.status,
		expiresAt: state.expiresAt,
		graceUntil: state.graceUntil,
		stripeStatus: state.stripeStatus,
		stripeOpenDisputes: state.openDisputes,
		stripeCustomerId: state.customerId,
		seats: state.seats,
		updatedAt: new Date(),
	};
}

/**
 * Moves an existing license to the subscription's state: a new price is a plan change, a new
 * quantity a seat change. Lowering seats below the members keeps them (the org dashboard
 * shows the drift as `over_by`) and only refuses new ones. `orgId` links a license that moved
 * to a team plan to the org it now licenses.
 */
export async function updateLicenseFromStripe(
	tx: Queryable,
	licenseId: string,
	state: StripeLicenseState,
	plan: Plan | undefined,
	orgId?: string,
): Promise<void> {
	const terms = {
		status: licenses.status,
		seats: licenses.seats,
		planId: licenses.planId,
		maxActivations: licenses.maxActivations,
	};
	const [before] = await tx.select(terms).from(licenses).where(eq(licenses.id, licenseId));
	const [after] = await tx
		.update(licenses)
		.set({
			...columnsOf(state),
			// Plan changes through the Portal arrive as a new price on the subscription.
			...(plan
				? { planId: plan.id, maxActivations: maxActivationsFor(plan.entitlements, state.seats) }
				: {}),
			...(orgId ? { orgId } : {}),
		})
		.where(eq(licenses.id, licenseId))
		.returning(terms);
	if (before && before.status !== state.status) {
		await licenseStatusEvent(tx, licenseId, before.status, state.status);
	}
	// A new quantity (seats) or price (plan) is an edit like an operator's: `license.updated`
	// with the same `changes` shape, so a receiver hears of seat changes bought in the Portal.
	if (before && after) {
		const changes: Record<string, { from: unknown; to: unknown }> = {};
		if (before.seats !== after.seats) changes.seats = { from: before.seats, to: after.seats };
		if (before.planId !== after.planId) changes.plan = { from: before.planId, to: after.planId };
		if (before.maxActivations !== after.maxActivations) {
			changes.max_activations = { from: before.maxActivations, to: after.maxActivations };
		}
		if (Object.keys(changes).length > 0) {
			await enqueue(tx, {
				type: "license.updated",
				orgId: { ofLicense: licenseId },
				data: { id: licenseId, changes, source: "stripe" },
			});
		}
	}
}

/**
 * The license a paid subscription creates. The key is never returned or logged here: the
 * owner gets one from the owner routes (`POST /api/v1/licenses/:id/keys`).
 */
export async function createLicenseFromStripe(
	tx: Queryable,
	deps: { config: Config; meta: RequestMeta },
	state: StripeLicenseState,
	plan: Plan,
	ownerId: string,
	orgId: string | null,
): Promise<string> {
	const { keyHash, keyLast4 } = await newLicenseKey(deps.config);
	const id = newId("lic");
	await tx.insert(licenses).values({
		id,
		keyHash,
		keyLast4,
		planId: plan.id,
		ownerId,
		orgId,
		maxActivations: maxActivationsFor(plan.entitlements, state.seats),
		stripeSubscriptionId: state.subscriptionId,
		source: "stripe",
		...columnsOf(state),
	});
	await recordAudit(tx, deps.meta, {
		action: "license_create",
		result: "success",
		licenseId: id,
		userId: ownerId,
		detail: { plan: plan.id, source: "stripe", subscription: state.subscriptionId },
	});
	await enqueue(tx, {
		type: "license.created",
		orgId,
		data: {
			id,
			plan: plan.id,
			status: state.status,
			expires_at: state.expiresAt?.toISOString() ?? null,
		},
	});
	return id;
}
