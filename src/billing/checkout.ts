/**
 * Money in: Stripe Checkout for a plan, and the Customer Portal for everything after (card,
 * plan changes, cancellation). The license itself is created by the webhook, never here: a
 * redirect back from Checkout proves nothing.
 */
import { and, eq, isNull } from "drizzle-orm";
import { type RequestMeta, recordAudit } from "../audit/log";
import type { Database } from "../db/client";
import { plans, users } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { isOrgPlan } from "../licenses/queries";
import { MANAGERS, requireMember } from "../orgs/membership";
import { isMissing, type Stripe, upstreamError } from "./stripe-client";

export interface CheckoutInput {
	plan: string;
	interval: "month" | "year";
	/** Team plans: named seats to buy (the subscription's quantity); default the plan's seats. */
	seats?: number | undefined;
	/** Team plans: the org to license (the buyer must manage it); default a new org. */
	org_id?: string | undefined;
}

export interface BillingUser {
	id: string;
	email: string;
}

export interface CheckoutDeps {
	db: Database;
	stripe: Stripe;
	meta: RequestMeta;
	/** The server's public URL (no trailing slash): where Checkout and the Portal send people back. */
	publicUrl: string;
	requestId: string;
}

export type CheckoutService = ReturnType<typeof checkoutService>;

export function checkoutService(deps: CheckoutDeps) {
	const { db, stripe, meta } = deps;

	/** Stripe calls fail as 502; contract errors pass through. */
	async function upstream<T>(work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (err) {
			if (err instanceof ApiError) throw err;
			throw upstreamError(err, deps.requestId);
		}
	}

	/**
	 * One Stripe customer per user, created on first need and reused. The idempotency key is the
	 * user id, so two first checkouts racing get the same customer back from Stripe, and the
	 * conditional update keeps whichever id landed first.
	 */
	async function customerFor(user: BillingUser): Promise<string> {
		const row = await db.query.users.findFirst({
			where: eq(users.id, user.id),
			columns: { stripeCustomerId: true },
		});
		if (!row) throw apiError("UNAUTHORIZED", "A valid access token is required. Log in again.");
		if (row.stripeCustomerId) return row.stripeCustomerId;
		const customer = await upstream(() =>
			stripe.customers.create(
				{ email: user.email, metadata: { user_id: user.id } },
				{ idempotencyKey: `customer-for-${user.id}` },
			),
		);
		const [updated] = await db
			.update(users)
			.set({ stripeCustomerId: customer.id })
			.where(and(eq(users.id, user.id), isNull(users.stripeCustomerId)))
			.returning({ id: users.stripeCustomerId });
		if (updated?.id) return updated.id;
		const winner = await db.query.users.findFirst({
			where: eq(users.id, user.id),
			columns: { stripeCustomerId: true },
		});
		return winner?.stripeCustomerId ?? customer.id;
	}

	return {
		async checkout(
			user: BillingUser,
			input: CheckoutInput,
		): Promise<{ url: string; session_id: string }> {
			const plan = await db.query.plans.findFirst({ where: eq(plans.id, input.plan) });
			if (!plan) {
				throw new ApiError("INVALID_REQUEST", "Unknown plan.", { extra: { fields: ["plan"] } });
			}
			if (!plan.purchasable) {
				throw new ApiError(
					"INVALID_REQUEST",
					`The ${plan.name} plan cannot be bought online yet; contact sales.`,
					{ extra: { fields: ["plan"] } },
				);
			}
			const lookupKey =
				input.interval === "year" ? plan.stripeLookupKeyAnnual : plan.stripeLookupKeyMonthly;
			if (!lookupKey) {
				throw new ApiError(
					"INVALID_REQUEST",
					`The ${plan.name} plan is not sold with ${input.interval}ly billing.`,
					{ extra: { fields: ["interval"] } },
				);
			}
			const org = isOrgPlan(plan);
			if (!org && (input.seats !== undefined || input.org_id !== undefined)) {
				const fields = [
					...(input.seats !== undefined ? ["seats"] : []),
					...(input.org_id !== undefined ? ["org_id"] : []),
				];
				throw new ApiError("INVALID_REQUEST", `The ${plan.name} plan is for one person.`, {
					extra: { fields },
				});
			}
			if (input.org_id) await requireMember(db, input.org_id, user.id, MANAGERS);
			const quantity = org ? (input.seats ?? plan.entitlements.seats) : 1;
			const customer = await customerFor(user);
			// Prices are found by lookup key (never a hard-coded id), so `npm run stripe:sync` can
			// replace a price without a deploy.
			const prices = await upstream(() =>
				stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 }),
			);
			const price = prices.data[0];
			if (!price) {
				console.error(`[${deps.requestId}] no active Stripe price with lookup key ${lookupKey}`);
				throw apiError(
					"BILLING_NOT_CONFIGURED",
					"This plan's price is not set up in the payment provider yet.",
				);
			}
			const tie = {
				user_id: user.id,
				plan: plan.id,
				...(input.org_id ? { org_id: input.org_id } : {}),
			};
			const session = await upstream(() =>
				stripe.checkout.sessions.create(
					{
						mode: "subscription",
						customer,
						client_reference_id: user.id,
						line_items: [{ price: price.id, quantity }],
						metadata: { ...tie, interval: input.interval },
						// Copied onto the subscription, so every later event can find the user and plan.
						subscription_data: { metadata: tie },
						success_url: `${deps.publicUrl}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
						cancel_url: `${deps.publicUrl}/billing/cancel`,
					},
					// One key per attempt: SDK retries of this call reuse it, a new click gets a new session.
					{ idempotencyKey: `checkout-${crypto.randomUUID()}` },
				),
			);
			if (!session.url) throw upstreamError(new Error("session without url"), deps.requestId);
			await recordAudit(db, meta, {
				action: "checkout_started",
				result: "success",
				userId: user.id,
				detail: {
					plan: plan.id,
					interval: input.interval,
					session_id: session.id,
					seats: quantity,
				},
			});
			return { url: session.url, session_id: session.id };
		},

		async portal(user: BillingUser): Promise<{ url: string }> {
			const row = await db.query.users.findFirst({
				where: eq(users.id, user.id),
				columns: { stripeCustomerId: true },
			});
			if (!row?.stripeCustomerId) {
				throw apiError("NOT_FOUND", "You have no billing account yet; start with a checkout.");
			}
			const customer = row.stripeCustomerId;
			try {
				const session = await stripe.billingPortal.sessions.create({
					customer,
					return_url: `${deps.publicUrl}/billing/success`,
				});
				return { url: session.url };
			} catch (err) {
				if (isMissing(err)) {
					throw apiError("NOT_FOUND", "You have no billing account yet; start with a checkout.");
				}
				throw upstreamError(err, deps.requestId);
			}
		},
	};
}
