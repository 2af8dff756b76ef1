/**
 * What a Stripe-paid license should look like, decided from Stripe's *current* objects and never
 * from the order in which webhooks arrived. Pure: the webhook handler fetches the subscription
 * (and, for refunds and disputes, the charge or dispute) and asks this module for the license.
 */
import type { LicenseStatus } from "../db/schema";

/** The parts of a Stripe Subscription the license follows. */
export interface SubscriptionSnapshot {
	/** Stripe's status: active, trialing, past_due, unpaid, canceled, paused, incomplete, … */
	status: string;
	currentPeriodStart: Date;
	currentPeriodEnd: Date;
	/** When the subscription ended (canceled), null while it runs. */
	endedAt: Date | null;
}

export interface LicenseDates {
	status: LicenseStatus;
	expiresAt: Date | null;
	graceUntil: Date | null;
}

export interface ReconcileInput {
	subscription: SubscriptionSnapshot;
	/** The license as stored before this event, null when it does not exist yet. */
	previous: {
		status: LicenseStatus;
		stripeOpenDisputes: string[];
		expiresAt?: Date | null;
		graceUntil?: Date | null;
	} | null;
	/** Disputes still open after this event. */
	openDisputes: readonly string[];
	/** This event proved money went back for good: a full refund or a lost dispute. */
	revoke: boolean;
	/** PAYMENT_GRACE_DAYS. */
	graceDays: number;
}

const DAY_MS = 86_400_000;

/**
 * Stripe statuses that mean the subscription was paid at some point, so a license belongs to it.
 * `incomplete` (first payment pending or failed) and `incomplete_expired` never got one.
 */
const LICENSED = new Set(["active", "trialing", "past_due", "unpaid", "canceled", "paused"]);

/** Whether a subscription in this state should have a license (creating one if missing). */
export function subscriptionIsLicensed(status: string): boolean {
	return LICENSED.has(status);
}

/**
 * The license for this subscription state. Holds win over dates: revocation is final, an open
 * dispute or an operator's suspension keeps it suspended; otherwise the subscription decides.
 *
 * A renewal moves Stripe's period forward before the invoice is paid, so for `past_due` the paid
 * period ended at `currentPeriodStart`; the grace counts from there (a Stripe timestamp, so the
 * answer does not depend on when the webhook happened to arrive).
 */
export function reconcileLicense(input: ReconcileInput): LicenseDates {
	const { subscription: sub, previous } = input;
	const base = fromSubscription(sub, input.graceDays);
	// Revocation is final, dates included: a revoked license ends where it was when revoked, not
	// where the cancellation that follows it (at whatever moment it ran) would put it.
	if (previous?.status === "revoked" && previous.expiresAt !== undefined) {
		return {
			status: "revoked",
			expiresAt: previous.expiresAt,
			graceUntil: previous.graceUntil ?? null,
		};
	}
	if (input.revoke || previous?.status === "revoked") return { ...base, status: "revoked" };
	// A suspension with no dispute behind it was put there by an operator: billing leaves it.
	const operatorHold = previous?.status === "suspended" && previous.stripeOpenDisputes.length === 0;
	if (input.openDisputes.length > 0 || operatorHold) return { ...base, status: "suspended" };
	return base;
}

function fromSubscription(sub: SubscriptionSnapshot, graceDays: number): LicenseDates {
	switch (sub.status) {
		case "active":
		case "trialing":
			return { status: "active", expiresAt: sub.currentPeriodEnd, graceUntil: null };
		case "past_due":
		case "unpaid":
			return {
				status: "past_due",
				expiresAt: sub.currentPeriodEnd,
				graceUntil: new Date(sub.currentPeriodStart.getTime() + graceDays * DAY_MS),
			};
		default:
			// canceled, paused (trial ended without a payment method), and anything newer: not usable.
			return {
				status: "expired",
				expiresAt: sub.endedAt ?? sub.currentPeriodEnd,
				graceUntil: null,
			};
	}
}

/** Dispute statuses after which the money stays with us (or never left): no hold. */
const DISPUTE_RESOLVED_FOR_US = new Set(["won", "warning_closed", "prevented"]);

/**
 * How a dispute, as Stripe reports it now, changes the set of open disputes: still open adds
 * it, resolved takes it out, and `lost` also revokes. Each dispute only ever moves its own
 * entry, so the set ends the same whatever order the disputes' events arrive in.
 */
export function disputeEffect(
	dispute: { id: string; status: string },
	open: readonly string[],
): { openDisputes: string[]; revoke: boolean } {
	const others = open.filter((id) => id !== dispute.id);
	if (dispute.status === "lost") return { openDisputes: others, revoke: true };
	if (DISPUTE_RESOLVED_FOR_US.has(dispute.status)) return { openDisputes: others, revoke: false };
	return { openDisputes: [...others, dispute.id].sort(), revoke: false };
}
