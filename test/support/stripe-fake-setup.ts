/**
 * Once per test run, on Node, after global-setup.ts made the database: the fake Stripe, with
 * keys generated now, and its catalog filled from the plans table by the real sync code (what
 * `npm run stripe:sync` does to a real account).
 */
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { syncStripeCatalog } from "../../src/billing/catalog";
import { createStripeClient } from "../../src/billing/stripe-client";
import { createDb, createSql } from "../../src/db/client";
import { plans } from "../../src/db/schema";
import { startFakeStripe } from "./stripe-fake";

declare module "vitest" {
	export interface ProvidedContext {
		stripeApiBase: string;
		stripeSecretKey: string;
		stripeWebhookSecret: string;
	}
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const secretKey = `sk_test_${randomBytes(24).toString("hex")}`;
	const fake = await startFakeStripe({ secretKey });
	const sql = createSql(project.getProvidedContext().databaseUrl, { max: 1 });
	try {
		const catalog = await createDb(sql).select().from(plans);
		await syncStripeCatalog(createStripeClient(secretKey, fake.url), catalog);
	} finally {
		await sql.end();
	}
	project.provide("stripeApiBase", fake.url);
	project.provide("stripeSecretKey", secretKey);
	project.provide("stripeWebhookSecret", `whsec_${randomBytes(24).toString("base64url")}`);
	return fake.close;
}
