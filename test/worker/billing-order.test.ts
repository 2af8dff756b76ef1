/**
 * The property behind "replays and reorders change nothing": for any subscription history,
 * delivering its webhooks shuffled, duplicated and partly concurrent leaves the license exactly
 * as delivering them once, in order. Stripe's objects are at their final state while the
 * events arrive, as when deliveries are late.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	checkout,
	createUser,
	deliver,
	deliverAll,
	licensesOfSubscription,
	type StripeEvent,
	stripeSide,
} from "../support/billing";

type Step =
	| { kind: "renew"; paid: boolean }
	| { kind: "pay" }
	| { kind: "give-up" }
	| { kind: "change-plan"; to: "starter_monthly" | "professional_monthly" }
	| { kind: "cancel"; atPeriodEnd: boolean }
	| { kind: "end" }
	| { kind: "refund"; partial: boolean }
	| { kind: "dispute" }
	| { kind: "close-dispute"; status: "won" | "lost" };

const step: fc.Arbitrary<Step> = fc.oneof(
	fc.record({ kind: fc.constant("renew" as const), paid: fc.boolean() }),
	fc.record({ kind: fc.constant("pay" as const) }),
	fc.record({ kind: fc.constant("give-up" as const) }),
	fc.record({
		kind: fc.constant("change-plan" as const),
		to: fc.constantFrom("starter_monthly" as const, "professional_monthly" as const),
	}),
	fc.record({ kind: fc.constant("cancel" as const), atPeriodEnd: fc.boolean() }),
	fc.record({ kind: fc.constant("end" as const) }),
	fc.record({ kind: fc.constant("refund" as const), partial: fc.boolean() }),
	fc.record({ kind: fc.constant("dispute" as const) }),
	fc.record({
		kind: fc.constant("close-dispute" as const),
		status: fc.constantFrom("won" as const, "lost" as const),
	}),
);

/**
 * Plays the steps on Stripe's side for one subscription, skipping those that make no sense at
 * that point (paying when nothing is due, renewing a canceled subscription…). Returns every
 * event Stripe would have sent, in the order it sent them.
 */
async function play(steps: Step[], start: number): Promise<{ sub: string; events: StripeEvent[] }> {
	const user = await createUser("order");
	const bought = await checkout(user, { start });
	const sub = bought.subscriptionId;
	const events = [...bought.events];
	let state: "active" | "past_due" | "unpaid" | "ending" | "canceled" = "active";
	let lastCharge = bought.chargeId;
	const charges: string[] = bought.chargeId ? [bought.chargeId] : [];
	const openDisputes: string[] = [];
	let disputed = 0;
	for (const s of steps) {
		let out: { events: StripeEvent[]; charge_id?: string | null; dispute_id?: string } | null =
			null;
		if (s.kind === "renew" && (state === "active" || state === "ending")) {
			if (state === "ending") continue;
			out = await stripeSide(`subscriptions/${sub}/renew`, { paid: s.paid });
			state = s.paid ? "active" : "past_due";
		} else if (s.kind === "pay" && (state === "past_due" || state === "unpaid")) {
			out = await stripeSide(`subscriptions/${sub}/pay`);
			state = "active";
		} else if (s.kind === "give-up" && state === "past_due") {
			out = await stripeSide(`subscriptions/${sub}/give-up`);
			state = "unpaid";
		} else if (s.kind === "change-plan" && state === "active") {
			out = await stripeSide(`subscriptions/${sub}/change-plan`, { lookup_key: s.to });
		} else if (s.kind === "cancel" && state !== "canceled" && state !== "ending") {
			out = await stripeSide(`subscriptions/${sub}/cancel`, { at_period_end: s.atPeriodEnd });
			state = s.atPeriodEnd ? "ending" : "canceled";
		} else if (s.kind === "end" && state === "ending") {
			out = await stripeSide(`subscriptions/${sub}/end`);
			state = "canceled";
		} else if (s.kind === "refund" && lastCharge) {
			out = await stripeSide(`charges/${lastCharge}/refund`, s.partial ? { amount: 100 } : {});
		} else if (s.kind === "dispute" && disputed < charges.length) {
			// Each charge is disputed at most once; several disputes may be open at a time.
			out = await stripeSide(`charges/${charges[disputed++]}/dispute`);
			if (out.dispute_id) openDisputes.push(out.dispute_id);
		} else if (s.kind === "close-dispute" && openDisputes.length > 0) {
			out = await stripeSide(`disputes/${openDisputes.shift()}/close`, { status: s.status });
		}
		if (!out) continue;
		if (out.charge_id) {
			lastCharge = out.charge_id;
			charges.push(out.charge_id);
		}
		events.push(...out.events);
	}
	return { sub, events };
}

async function finalState(subscriptionId: string) {
	const rows = await licensesOfSubscription(subscriptionId);
	return rows.map((r) => ({
		status: r.status,
		plan: r.plan_id,
		max_activations: r.max_activations,
		expires_at: r.expires_at?.toISOString() ?? null,
		grace_until: r.grace_until?.toISOString() ?? null,
		stripe_status: r.stripe_status,
		open_disputes: r.stripe_open_disputes.length,
	}));
}

describe("webhook delivery order", () => {
	it("never changes the final license: shuffled, duplicated and concurrent deliveries agree with in-order", async () => {
		const start = Math.floor(Date.now() / 1000) - 3600;
		await fc.assert(
			fc.asyncProperty(
				fc.array(step, { minLength: 1, maxLength: 10 }),
				fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 64, maxLength: 64 }),
				fc.array(fc.nat(), { maxLength: 10 }),
				fc.integer({ min: 1, max: 5 }),
				async (steps, sortKeys, duplicates, batch) => {
					const inOrder = await play(steps, start);
					await deliverAll(inOrder.events);

					const reordered = await play(steps, start);
					const n = reordered.events.length;
					const deliveries = [
						...reordered.events,
						...duplicates.map((d) => reordered.events[d % n] as StripeEvent),
					]
						.map((event, i) => ({ event, key: sortKeys[i % sortKeys.length] ?? 0 }))
						.sort((a, b) => a.key - b.key)
						.map((d) => d.event);
					for (let i = 0; i < deliveries.length; i += batch) {
						const results = await Promise.all(deliveries.slice(i, i + batch).map(deliver));
						for (const r of results) expect(r.status, r.text).toBe(200);
					}

					const expected = await finalState(inOrder.sub);
					expect(expected).toHaveLength(1);
					expect(await finalState(reordered.sub)).toEqual(expected);
				},
			),
			{ numRuns: 12 },
		);
	}, 180_000);
});
