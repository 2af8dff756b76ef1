/**
 * `npm run stripe:sync`: creates or updates the Stripe products and prices from the plans in
 * the database (DATABASE_URL, or the embedded one in .data/). Works with a test or a live key.
 */
import { resolve } from "node:path";
import { syncStripeCatalog } from "../src/billing/catalog";
import { createStripeClient } from "../src/billing/stripe-client";
import { plans } from "../src/db/schema";
import { openDatabase } from "../src/node/database";

const key = process.env.STRIPE_SECRET_KEY;
if (!key) {
	console.error("STRIPE_SECRET_KEY is not set (a test key sk_test_… or a live key sk_live_…).");
	process.exit(1);
}
const database = await openDatabase({
	url: process.env.DATABASE_URL || undefined,
	dataDir: resolve(".data/pglite"),
	max: 1,
});
try {
	const catalog = await database.db.select().from(plans).orderBy(plans.monthlyPriceCents);
	const mode = key.startsWith("sk_live_") ? "LIVE" : "test";
	console.log(`syncing ${catalog.length} plans to Stripe (${mode} mode)`);
	const report = await syncStripeCatalog(
		createStripeClient(key, process.env.STRIPE_API_BASE || undefined),
		catalog,
		console.log,
	);
	console.log(
		`done: ${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged`,
	);
} finally {
	await database.close();
}
