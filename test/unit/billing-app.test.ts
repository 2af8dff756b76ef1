/**
 * The Node entry's app with no database to speak of: what billing answers when Stripe is not
 * configured, and that a database failure while applying a webhook is a 5xx (Stripe then
 * delivers the event again).
 */
import { randomBytes } from "node:crypto";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { passwordHasher } from "../../src/accounts/password";
import { newApp } from "../../src/app";
import { buildConfig } from "../../src/config";
import { createDb, createSql } from "../../src/db/client";
import { SettingsSchema } from "../../src/env";
import { generateSigningKeyPair } from "../../src/kernel/index";
import { argon2idNative } from "../../src/node/argon2";
import { memoryRateLimiter } from "../../src/ratelimit/limiter";

const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString("hex")}`;

/** Port 9 (discard) is closed here: every connection attempt is refused at once. */
async function appWith(stripe: Record<string, string>) {
	const settings = SettingsSchema.parse({
		PUBLIC_URL: "http://license.test",
		LICENSE_SIGNING_KEY: JSON.stringify((await generateSigningKeyPair()).privateJwk),
		LICENSE_KEY_PEPPER: randomBytes(32).toString("hex"),
		JWT_SECRET: randomBytes(32).toString("hex"),
		...stripe,
	});
	const config = await buildConfig(settings);
	const db = createDb(createSql("postgres://postgres:postgres@127.0.0.1:9/none", { max: 1 }));
	return newApp({
		resolve: async () => ({ config, db, limiter: memoryRateLimiter() }),
		clientIp: () => "127.0.0.1",
		defer: () => {},
		passwords: passwordHasher(argon2idNative),
		docsBundle: async () => null,
	});
}

describe("billing without STRIPE_SECRET_KEY", () => {
	it("answers every billing route with 503 BILLING_NOT_CONFIGURED", async () => {
		const app = await appWith({});
		for (const path of [
			"/api/v1/billing/checkout",
			"/api/v1/billing/portal",
			"/billing/checkout",
			"/billing/portal",
			"/webhooks/stripe",
		]) {
			const res = await app.request(path, {
				method: "POST",
				body: JSON.stringify({ plan: "starter", interval: "month" }),
				headers: { "content-type": "application/json" },
			});
			const body = (await res.json()) as { error: { code: string } };
			expect(res.status, path).toBe(503);
			expect(body.error.code, path).toBe("BILLING_NOT_CONFIGURED");
		}
		// The pages stay up: they only explain what to do next.
		expect((await app.request("/billing/success")).status).toBe(200);
	});
});

describe("a database failure during a webhook", () => {
	it("answers a signed webhook with 503 and Retry-After when the database is unreachable", async () => {
		const app = await appWith({
			STRIPE_SECRET_KEY: "sk_test_unused",
			STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
			STRIPE_API_BASE: "http://127.0.0.1:9",
		});
		const payload = JSON.stringify({
			id: "evt_db_down",
			object: "event",
			type: "invoice.paid",
			created: 1,
			data: {
				object: {
					id: "in_1",
					object: "invoice",
					parent: { subscription_details: { subscription: "sub_1" } },
				},
			},
		});
		const res = await app.request("/webhooks/stripe", {
			method: "POST",
			body: payload,
			headers: {
				"content-type": "application/json",
				"stripe-signature": Stripe.webhooks.generateTestHeaderString({
					payload,
					secret: WEBHOOK_SECRET,
				}),
			},
		});
		expect(res.status, await res.clone().text()).toBe(503);
		expect(res.headers.get("retry-after")).toBe("5");
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
			"SERVICE_UNAVAILABLE",
		);
	});
});
