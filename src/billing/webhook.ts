/**
 * Stripe webhooks drive the license lifecycle (docs/api.md §3.4).
 *
 * Exactly once: the event id is inserted into `stripe_events` in the same transaction as the
 * change it makes; a redelivery finds the row (or waits on the first delivery's uncommitted one)
 * and does nothing.
 *
 * Order-independent: an event is only a hint that something changed. Under a per-subscription
 * lock, the handler fetches the subscription (and the charge or dispute) from Stripe *now* and
 * sets the license from those current objects. The lock makes the last writer the one that
 * fetched last, so whatever order events arrive in, the license ends up matching Stripe.
 * Refunds and lost disputes revoke (final); open disputes hold the license suspended until
 * each is resolved in our favour.
 */
import { eq, or, sql } from "drizzle-orm";
import { type AuditEvent, type RequestMeta, recordAudit } from "../audit/log";
import type { Config } from "../config";
import type { Database, Queryable } from "../db/client";
import { plans, stripeEvents, users } from "../db/schema";
import { ApiError } from "../errors";
import {
	createLicenseFromStripe,
	lockLicenseOfSubscription,
	type StripeLicenseState,
	updateLicenseFromStripe,
} from "../licenses/from-stripe";
import { isOrgPlan } from "../licenses/queries";
import { orgForPurchase } from "../orgs/create";
import {
	disputeEffect,
	reconcileLicense,
	type SubscriptionSnapshot,
	subscriptionIsLicensed,
} from "./lifecycle";
import { isMissing, type Stripe, upstreamError, webCrypto } from "./stripe-client";

export interface WebhookDeps {
	db: Database;
	stripe: Stripe;
	webhookSecret: string;
	/** Hashes the keys of the licenses it creates, like every other path. */
	config: Config;
	graceDays: number;
	meta: RequestMeta;
	requestId: string;
}

export type WebhookOutcome = "applied" | "duplicate" | "ignored";

/** What an event is about, found before taking the lock (these links never change). */
interface Target {
	subscriptionId: string;
	/** Re-read under the lock: does it now count as fully refunded? */
	refundedChargeId?: string;
	/** Re-read under the lock: open, won or lost? */
	disputeId?: string;
	/** A paid checkout: counted once as checkout_completed for the launch metrics. */
	completedCheckout?: { sessionId: string; userId: string | null };
}

const HANDLED = new Set<string>([
	"checkout.session.completed",
	"checkout.session.async_payment_succeeded",
	"checkout.session.async_payment_failed",
	"invoice.paid",
	"invoice.payment_failed",
	"customer.subscription.created",
	"customer.subscription.updated",
	"customer.subscription.deleted",
	"customer.subscription.paused",
	"customer.subscription.resumed",
	"charge.refunded",
	"charge.dispute.created",
	"charge.dispute.closed",
]);

export type WebhookService = ReturnType<typeof webhookService>;

export function webhookService(deps: WebhookDeps) {
	const { db, stripe, meta } = deps;

	async function fromStripe<T>(work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (err) {
			throw upstreamError(err, deps.requestId);
		}
	}

	/**
	 * The subscription a charge paid for: charge → payment intent → invoice payment → invoice.
	 * Null for a charge that paid no subscription invoice (or no longer exists).
	 */
	async function subscriptionOfCharge(chargeId: string): Promise<string | null> {
		const charge = await stripe.charges.retrieve(chargeId).catch((err: unknown) => {
			if (isMissing(err)) return null;
			throw upstreamError(err, deps.requestId);
		});
		if (!charge) return null;
		const pi = idOf(charge.payment_intent);
		if (!pi) return null;
		const payments = await fromStripe(() =>
			stripe.invoicePayments.list({
				payment: { type: "payment_intent", payment_intent: pi },
				limit: 1,
			}),
		);
		const invoiceId = idOf(payments.data[0]?.invoice ?? null);
		if (!invoiceId) return null;
		const invoice = await fromStripe(() => stripe.invoices.retrieve(invoiceId));
		return subscriptionOfInvoice(invoice);
	}

	async function targetOf(event: Stripe.Event): Promise<Target | null> {
		switch (event.type) {
			case "checkout.session.completed":
			case "checkout.session.async_payment_succeeded":
			case "checkout.session.async_payment_failed": {
				const session = event.data.object;
				const subscriptionId = idOf(session.subscription);
				if (session.mode !== "subscription" || !subscriptionId) return null;
				const paid =
					event.type === "checkout.session.async_payment_succeeded" ||
					(event.type === "checkout.session.completed" && session.payment_status !== "unpaid");
				return {
					subscriptionId,
					...(paid
						? {
								completedCheckout: {
									sessionId: session.id,
									userId: session.client_reference_id ?? null,
								},
							}
						: {}),
				};
			}
			case "invoice.paid":
			case "invoice.payment_failed": {
				const subscriptionId = subscriptionOfInvoice(event.data.object);
				return subscriptionId ? { subscriptionId } : null;
			}
			case "customer.subscription.created":
			case "customer.subscription.updated":
			case "customer.subscription.deleted":
			case "customer.subscription.paused":
			case "customer.subscription.resumed":
				return { subscriptionId: event.data.object.id };
			case "charge.refunded": {
				const subscriptionId = await subscriptionOfCharge(event.data.object.id);
				return subscriptionId ? { subscriptionId, refundedChargeId: event.data.object.id } : null;
			}
			case "charge.dispute.created":
			case "charge.dispute.closed": {
				const dispute = event.data.object;
				const chargeId = idOf(dispute.charge);
				const subscriptionId = chargeId ? await subscriptionOfCharge(chargeId) : null;
				return subscriptionId ? { subscriptionId, disputeId: dispute.id } : null;
			}
			default:
				return null;
		}
	}

	async function audit(tx: Queryable, event: AuditEvent): Promise<void> {
		await recordAudit(tx, meta, event);
	}

	/** Applies one event inside the caller's transaction, under the subscription's lock. */
	async function applyLocked(tx: Queryable, event: Stripe.Event, target: Target): Promise<void> {
		const base = { event_id: event.id, type: event.type, subscription: target.subscriptionId };
		let subscription: Stripe.Subscription;
		try {
			subscription = await stripe.subscriptions.retrieve(target.subscriptionId);
		} catch (err) {
			// Deleted test data or another account's object: retrying cannot help.
			if (!isMissing(err)) throw upstreamError(err, deps.requestId);
			await audit(tx, { action: "webhook_event", result: "ignored", detail: base });
			return;
		}
		const current = await lockLicenseOfSubscription(tx, subscription.id);

		if (target.completedCheckout) {
			await audit(tx, {
				action: "checkout_completed",
				result: "success",
				userId: ownerIdFromMetadata(subscription) ?? target.completedCheckout.userId,
				detail: { session_id: target.completedCheckout.sessionId },
			});
		}
		if (!current && !subscriptionIsLicensed(subscription.status)) {
			// Unpaid so far (async payment pending or failed): a later event brings the license.
			await audit(tx, {
				action: "webhook_event",
				result: "no_license_yet",
				detail: { ...base, stripe_status: subscription.status },
			});
			return;
		}

		let revoke = false;
		let openDisputes = current?.stripeOpenDisputes ?? [];
		if (target.refundedChargeId) {
			const chargeId = target.refundedChargeId;
			const charge = await fromStripe(() => stripe.charges.retrieve(chargeId));
			// A partial refund is goodwill, not a reversal: the license stays.
			revoke = charge.refunded;
		}
		if (target.disputeId) {
			const id = target.disputeId;
			const dispute = await fromStripe(() => stripe.disputes.retrieve(id));
			({ openDisputes, revoke } = disputeEffect(dispute, openDisputes));
		}

		const plan = await planOf(tx, subscription);
		const next = reconcileLicense({
			subscription: snapshotOf(subscription),
			previous: current ?? null,
			openDisputes,
			revoke,
			graceDays: deps.graceDays,
		});
		// Canceled before the license is written, so the stored Stripe status is the one it ends
		// with, whichever event got here first.
		const canceled =
			current && next.status === "revoked" && stillBills(subscription.status)
				? await cancelRevoked(tx, subscription, current.id, event)
				: null;
		const state: StripeLicenseState = {
			subscriptionId: subscription.id,
			customerId: idOf(subscription.customer),
			stripeStatus: canceled ?? subscription.status,
			openDisputes,
			seats: plan && isOrgPlan(plan) ? quantityOf(subscription) : null,
			...next,
		};

		if (current) {
			// An upgrade in the Portal from a one-person plan to a team plan: the license now needs
			// the org its seats belong to, made (or named) as a team checkout would.
			const orgId =
				plan && isOrgPlan(plan) && !current.orgId && current.ownerId
					? await orgForPurchase(tx, current.ownerId, metadataValue(subscription, "org_id"))
					: undefined;
			await updateLicenseFromStripe(tx, current.id, state, plan, orgId);
			await audit(tx, {
				action: "webhook_event",
				result: next.status,
				licenseId: current.id,
				userId: current.ownerId,
				detail: { ...base, stripe_status: subscription.status, plan: plan?.id ?? current.planId },
			});
			return;
		}

		const ownerId = await ownerOf(tx, subscription);
		if (!plan || !ownerId) {
			console.error(
				`[${deps.requestId}] subscription ${subscription.id}: ${plan ? "no owner" : "no plan"} found; no license created`,
			);
			await audit(tx, { action: "webhook_event", result: "unmatched", detail: base });
			return;
		}
		// Team plans license an organisation: the one checkout named, or a new one the buyer owns.
		const orgId = isOrgPlan(plan)
			? await orgForPurchase(tx, ownerId, metadataValue(subscription, "org_id"))
			: null;
		const id = await createLicenseFromStripe(
			tx,
			{ config: deps.config, meta },
			state,
			plan,
			ownerId,
			orgId,
		);
		await audit(tx, {
			action: "webhook_event",
			result: next.status,
			licenseId: id,
			userId: ownerId,
			detail: { ...base, stripe_status: subscription.status, plan: plan.id },
		});
	}

	/**
	 * A revoked license must not keep charging: refunds, lost disputes and operator revocations
	 * all end the subscription now. Idempotent: the key is the subscription's, and a later
	 * delivery finds it canceled (fetched under the lock) and does nothing. A failure throws, so
	 * Stripe delivers the event again.
	 */
	async function cancelRevoked(
		tx: Queryable,
		subscription: Stripe.Subscription,
		licenseId: string,
		event: Stripe.Event,
	): Promise<Stripe.Subscription.Status> {
		try {
			await stripe.subscriptions.cancel(
				subscription.id,
				{},
				{ idempotencyKey: `cancel-revoked-${subscription.id}` },
			);
		} catch (err) {
			if (!isAlreadyCanceled(err)) throw upstreamError(err, deps.requestId);
		}
		console.log(
			`[${deps.requestId}] license ${licenseId} is revoked: canceled subscription ${subscription.id} (${event.type})`,
		);
		await audit(tx, {
			action: "subscription_cancel",
			result: "canceled",
			licenseId,
			detail: { subscription: subscription.id, event_id: event.id, type: event.type },
		});
		return "canceled";
	}

	/** Checks the signature over the exact bytes; null when it is missing, wrong or stale. */
	async function verify(
		body: Uint8Array,
		signature: string | undefined,
	): Promise<Stripe.Event | null> {
		if (!signature) return null;
		try {
			// Default tolerance (300 s): an old signed payload replayed later is refused.
			return await stripe.webhooks.constructEventAsync(
				body,
				signature,
				deps.webhookSecret,
				undefined,
				webCrypto,
			);
		} catch {
			return null;
		}
	}

	async function apply(event: Stripe.Event): Promise<WebhookOutcome> {
		if (!HANDLED.has(event.type)) {
			// Every verified delivery is audited (docs/api.md §3.7), the ones we do not act on too.
			await audit(db, {
				action: "webhook_event",
				result: "ignored",
				detail: { event_id: event.id, type: event.type },
			});
			return "ignored";
		}
		const target = await targetOf(event);
		return db.transaction(async (tx) => {
			const recorded = await tx
				.insert(stripeEvents)
				.values({
					id: event.id,
					type: event.type,
					eventCreatedAt: new Date(event.created * 1000),
				})
				.onConflictDoNothing()
				.returning({ id: stripeEvents.id });
			if (recorded.length === 0) {
				await audit(tx, {
					action: "webhook_event",
					result: "duplicate",
					detail: { event_id: event.id, type: event.type },
				});
				return "duplicate";
			}
			if (!target) {
				await audit(tx, {
					action: "webhook_event",
					result: "ignored",
					detail: { event_id: event.id, type: event.type },
				});
				return "applied";
			}
			// Serialises every event of one subscription, whether or not its license exists yet.
			await tx.execute(
				sql`select pg_advisory_xact_lock(hashtextextended(${`stripe-subscription:${target.subscriptionId}`}, 0))`,
			);
			await applyLocked(tx, event, target);
			return "applied";
		});
	}

	return {
		/**
		 * Verifies and applies one delivery. A bad signature is a 400 with an audit row (written on
		 * its own: there is nothing else to commit); a database or Stripe failure throws, so the
		 * route answers 5xx and Stripe delivers again.
		 */
		async receive(body: Uint8Array, signature: string | undefined): Promise<WebhookOutcome> {
			const event = await verify(body, signature);
			if (!event) {
				await recordAudit(db, meta, {
					action: "webhook_signature_failure",
					result: "denied",
					detail: { reason: signature ? "invalid_or_stale" : "missing", bytes: body.length },
				}).catch((err: unknown) => {
					console.error(
						`[${deps.requestId}] audit of a webhook signature failure failed:`,
						err instanceof Error ? err.message : err,
					);
				});
				throw new ApiError(
					"INVALID_REQUEST",
					"The Stripe-Signature header is missing, does not match the body, or is too old.",
				);
			}
			return apply(event);
		},
		apply,
	};
}

async function planOf(
	tx: Queryable,
	subscription: Stripe.Subscription,
): Promise<typeof plans.$inferSelect | undefined> {
	const keys = subscription.items.data
		.map((item) => item.price.lookup_key)
		.filter((k): k is string => typeof k === "string");
	if (keys.length > 0) {
		for (const key of keys) {
			const [plan] = await tx
				.select()
				.from(plans)
				.where(or(eq(plans.stripeLookupKeyMonthly, key), eq(plans.stripeLookupKeyAnnual, key)));
			if (plan) return plan;
		}
	}
	// A price made by hand in the dashboard has no lookup key: fall back to what checkout recorded.
	const slug = subscription.metadata.plan;
	if (!slug) return undefined;
	const [plan] = await tx.select().from(plans).where(eq(plans.id, slug));
	return plan;
}

/** The user checkout tied the subscription to, else the user who owns its Stripe customer. */
async function ownerOf(tx: Queryable, subscription: Stripe.Subscription): Promise<string | null> {
	const fromMetadata = ownerIdFromMetadata(subscription);
	const customerId = idOf(subscription.customer);
	const where = fromMetadata
		? eq(users.id, fromMetadata)
		: customerId
			? eq(users.stripeCustomerId, customerId)
			: null;
	if (!where) return null;
	const [user] = await tx.select({ id: users.id }).from(users).where(where);
	return user?.id ?? null;
}

function ownerIdFromMetadata(subscription: Stripe.Subscription): string | null {
	return metadataValue(subscription, "user_id");
}

/** Statuses in which Stripe will still charge the customer. */
function stillBills(status: Stripe.Subscription.Status): boolean {
	return status !== "canceled" && status !== "incomplete_expired";
}

function isAlreadyCanceled(err: unknown): boolean {
	const e = err as { statusCode?: number; message?: string } | null;
	return e?.statusCode === 400 && /already been canceled/i.test(e.message ?? "");
}

function metadataValue(subscription: Stripe.Subscription, name: string): string | null {
	const value = subscription.metadata[name];
	return typeof value === "string" && value.length > 0 ? value : null;
}

/** Seats bought: the subscription's quantity (one item per plan; the largest if several). */
function quantityOf(subscription: Stripe.Subscription): number | null {
	const quantities = subscription.items.data.map((i) => i.quantity ?? 1);
	return quantities.length > 0 ? Math.max(...quantities) : null;
}

/** A subscription's items can sit on different periods; the license spans them. */
function snapshotOf(subscription: Stripe.Subscription): SubscriptionSnapshot {
	const items = subscription.items.data;
	const starts = items.map((i) => i.current_period_start);
	const ends = items.map((i) => i.current_period_end);
	const start = starts.length > 0 ? Math.min(...starts) : subscription.start_date;
	const end = ends.length > 0 ? Math.max(...ends) : subscription.start_date;
	return {
		status: subscription.status,
		currentPeriodStart: new Date(start * 1000),
		currentPeriodEnd: new Date(end * 1000),
		endedAt: subscription.ended_at ? new Date(subscription.ended_at * 1000) : null,
	};
}

function subscriptionOfInvoice(invoice: Stripe.Invoice): string | null {
	return idOf(invoice.parent?.subscription_details?.subscription ?? null);
}

function idOf(ref: string | { id: string } | null | undefined): string | null {
	if (!ref) return null;
	return typeof ref === "string" ? ref : ref.id;
}
