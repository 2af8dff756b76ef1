/**
 * Plans live in the database (seeded by migration); this makes a Stripe account match them:
 * one product per plan, one recurring price per interval, found by `lookup_key`. Idempotent:
 * a second run changes nothing. A changed amount gets a new price (Stripe prices are
 * immutable) that takes over the lookup key, and the old price is archived, so checkout picks
 * the new amount up without a deploy.
 */
import type { plans } from "../db/schema";
import type { Stripe } from "./stripe-client";

type Plan = typeof plans.$inferSelect;

export interface SyncReport {
	created: string[];
	updated: string[];
	unchanged: string[];
}

export function productIdOf(planId: string): string {
	return `coditect_${planId}`;
}

export async function syncStripeCatalog(
	stripe: Stripe,
	catalog: readonly Plan[],
	log: (line: string) => void = () => {},
): Promise<SyncReport> {
	const report: SyncReport = { created: [], updated: [], unchanged: [] };
	const note = (kind: keyof SyncReport, what: string) => {
		report[kind].push(what);
		log(`${kind.padEnd(9)} ${what}`);
	};

	for (const plan of catalog) {
		const productId = productIdOf(plan.id);
		const name = `CODITECT ${plan.name}`;
		const product = await stripe.products.retrieve(productId).catch((err: unknown) => {
			if ((err as { statusCode?: number }).statusCode === 404) return null;
			throw err;
		});
		if (!product) {
			await stripe.products.create({ id: productId, name, metadata: { plan: plan.id } });
			note("created", `product ${productId}`);
		} else if (product.name !== name || product.metadata.plan !== plan.id || !product.active) {
			await stripe.products.update(productId, { name, active: true, metadata: { plan: plan.id } });
			note("updated", `product ${productId}`);
		} else {
			note("unchanged", `product ${productId}`);
		}

		const wanted = [
			{
				interval: "month" as const,
				key: plan.stripeLookupKeyMonthly,
				amount: plan.monthlyPriceCents,
			},
			{ interval: "year" as const, key: plan.stripeLookupKeyAnnual, amount: plan.annualPriceCents },
		];
		for (const { interval, key, amount } of wanted) {
			if (!key) continue;
			const existing = (await stripe.prices.list({ lookup_keys: [key], limit: 1 })).data[0];
			const matches =
				existing?.active === true &&
				existing.unit_amount === amount &&
				existing.currency === "usd" &&
				existing.recurring?.interval === interval &&
				(typeof existing.product === "string" ? existing.product : existing.product.id) ===
					productId;
			if (existing && matches) {
				note("unchanged", `price ${key}`);
				continue;
			}
			await stripe.prices.create(
				{
					product: productId,
					currency: "usd",
					unit_amount: amount,
					recurring: { interval },
					lookup_key: key,
					// Moves the key off the old price in the same call: checkout never finds none.
					transfer_lookup_key: true,
					metadata: { plan: plan.id, interval },
				},
				// Same inputs, same price: a rerun after a crash does not make a duplicate.
				{ idempotencyKey: `price-${key}-${amount}-${existing?.id ?? "first"}` },
			);
			if (existing?.active) await stripe.prices.update(existing.id, { active: false });
			note(existing ? "updated" : "created", `price ${key} (${amount} cents/${interval})`);
		}
	}
	return report;
}
