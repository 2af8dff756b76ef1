/** `npm run stripe:sync`'s code against the fake Stripe, on a plan of its own. */
import { randomBytes } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { productIdOf, syncStripeCatalog } from "../../src/billing/catalog";
import { createStripeClient } from "../../src/billing/stripe-client";
import type { plans } from "../../src/db/schema";

type Plan = typeof plans.$inferSelect;

function probePlan(): Plan {
	const id = `probe_${randomBytes(4).toString("hex")}`;
	return {
		id,
		name: "Probe",
		entitlements: { activations_per_seat: 1, seats: 1, ci_runners: 0, features: ["core"] },
		monthlyPriceCents: 1900,
		annualPriceCents: 19000,
		stripeLookupKeyMonthly: `${id}_monthly`,
		stripeLookupKeyAnnual: `${id}_annual`,
		purchasable: true,
		createdAt: new Date(),
	};
}

describe("syncStripeCatalog", () => {
	const stripe = createStripeClient(inject("stripeSecretKey"), inject("stripeApiBase"));

	it("creates a product and both prices, then changes nothing on a second run", async () => {
		const plan = probePlan();
		const first = await syncStripeCatalog(stripe, [plan]);
		expect(first.created).toEqual([
			`product ${productIdOf(plan.id)}`,
			`price ${plan.id}_monthly (1900 cents/month)`,
			`price ${plan.id}_annual (19000 cents/year)`,
		]);
		const again = await syncStripeCatalog(stripe, [plan]);
		expect(again.created).toEqual([]);
		expect(again.updated).toEqual([]);
		expect(again.unchanged).toHaveLength(3);

		const [monthly] = (await stripe.prices.list({ lookup_keys: [`${plan.id}_monthly`] })).data;
		expect(monthly).toMatchObject({
			unit_amount: 1900,
			currency: "usd",
			product: productIdOf(plan.id),
			recurring: { interval: "month" },
			active: true,
		});
	});

	it("moves the lookup key to a new price when the amount changes, and archives the old one", async () => {
		const plan = probePlan();
		await syncStripeCatalog(stripe, [plan]);
		const key = `${plan.id}_monthly`;
		const [old] = (await stripe.prices.list({ lookup_keys: [key] })).data;

		const report = await syncStripeCatalog(stripe, [{ ...plan, monthlyPriceCents: 2400 }]);
		expect(report.updated).toEqual([`price ${key} (2400 cents/month)`]);
		const found = (await stripe.prices.list({ lookup_keys: [key] })).data;
		expect(found).toHaveLength(1);
		expect(found[0]).toMatchObject({ unit_amount: 2400, active: true });
		expect(found[0]?.id).not.toBe(old?.id);
		const archived = await stripe.prices.list({ active: false, limit: 100 });
		expect(archived.data.some((p) => p.id === old?.id)).toBe(true);
	});
});
