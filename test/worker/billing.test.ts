/**
 * Billing end to end inside workerd: checkout and portal against the fake Stripe, and signed
 * webhooks moving real licenses (real Postgres) through their states, seen through validate.
 */
import { describe, expect, inject, it } from "vitest";
import {
	auditRows,
	checkout,
	createUser,
	deliver,
	deliverAll,
	failStripe,
	issueKey,
	licensesOfSubscription,
	type StripeEvent,
	signedHeader,
	sql,
	stripeRequests,
	stripeSide,
	type TestUser,
} from "../support/billing";
import { call, hardwareId } from "../support/worker-client";

type Json = Record<string, unknown>;
const DAY = 86_400;

const asUser = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });

async function theLicense(subscriptionId: string) {
	const rows = await licensesOfSubscription(subscriptionId);
	expect(rows, JSON.stringify(rows)).toHaveLength(1);
	const [row] = rows;
	if (!row) throw new Error("no license");
	return row;
}

/** A paid, delivered checkout with one activated machine: what most lifecycle tests start from. */
async function activeCustomer(opts: Parameters<typeof checkout>[1] = {}) {
	const user = await createUser();
	const bought = await checkout(user, opts);
	await deliverAll(bought.events);
	const license = await theLicense(bought.subscriptionId);
	const key = await issueKey(license.id);
	const hw = hardwareId();
	const act = await call("/api/v1/licenses/activate", {
		json: { license_key: key, hardware_id: hw },
	});
	expect(act.status, act.text).toBe(201);
	const validate = async () =>
		(
			await call<{ valid: boolean; code: string; token: string | null; license: Json }>(
				"/api/v1/licenses/validate",
				{ json: { license_key: key, hardware_id: hw } },
			)
		).body;
	return { user, ...bought, license, key, hw, validate };
}

function tokenExp(token: string): number {
	const part = token.split(".")[1] ?? "";
	return (JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as { exp: number }).exp;
}

describe("POST /api/v1/billing/checkout", () => {
	it("opens a subscription-mode Checkout tied to the user and plan, reusing one Stripe customer", async () => {
		const user = await createUser();
		const first = await call<{ url: string; session_id: string }>("/api/v1/billing/checkout", {
			json: { plan: "starter", interval: "month" },
			headers: asUser(user),
		});
		expect(first.status, first.text).toBe(200);
		expect(first.body.url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
		expect(first.body.session_id).toMatch(/^cs_test_/);
		const second = await call<{ session_id: string }>("/api/v1/billing/checkout", {
			json: { plan: "professional", interval: "year" },
			headers: asUser(user),
		});
		expect(second.status, second.text).toBe(200);

		const seen = await stripeRequests(user.id);
		expect(seen.every((r) => r.authorized)).toBe(true);
		const customers = seen.filter((r) => r.method === "POST" && r.path === "/v1/customers");
		expect(customers, "one customer per user").toHaveLength(1);
		expect(customers[0]?.params).toMatchObject({
			email: user.email,
			metadata: { user_id: user.id },
		});
		const sessions = seen.filter((r) => r.path === "/v1/checkout/sessions");
		expect(sessions).toHaveLength(2);
		const [a, b] = sessions;
		expect(a?.params).toMatchObject({
			mode: "subscription",
			client_reference_id: user.id,
			metadata: { user_id: user.id, plan: "starter", interval: "month" },
			subscription_data: { metadata: { user_id: user.id, plan: "starter" } },
			line_items: [{ quantity: "1" }],
			success_url: "http://license.test/billing/success?session_id={CHECKOUT_SESSION_ID}",
			cancel_url: "http://license.test/billing/cancel",
		});
		expect(a?.params.customer).toBe(b?.params.customer);
		expect(b?.params).toMatchObject({ metadata: { plan: "professional", interval: "year" } });
		expect(a?.idempotencyKey).toBeTruthy();
		expect(a?.idempotencyKey).not.toBe(b?.idempotencyKey);

		// The price is the one found by lookup key, not a hard-coded id.
		const lookups = await stripeRequests("starter_monthly");
		const priceId = (a?.params.line_items as Json[] | undefined)?.[0]?.price;
		expect(lookups.some((r) => r.path === "/v1/prices")).toBe(true);
		expect(priceId).toMatch(/^price_/);

		const started = await auditRows("checkout_started", { userId: user.id });
		expect(started.map((r) => r.detail?.plan)).toEqual(["starter", "professional"]);
	});

	it("refuses a plan that is not sold online yet with 400 and a clear message", async () => {
		const user = await createUser();
		const res = await call<{ error: Json }>("/api/v1/billing/checkout", {
			json: { plan: "enterprise", interval: "year" },
			headers: asUser(user),
		});
		expect(res.status, res.text).toBe(400);
		expect(res.body.error).toMatchObject({ code: "INVALID_REQUEST", fields: ["plan"] });
		expect(String(res.body.error.message)).toContain("cannot be bought online yet");
		const unknown = await call("/api/v1/billing/checkout", {
			json: { plan: "gold" },
			headers: asUser(user),
		});
		expect(unknown.status, unknown.text).toBe(400);
		expect(await stripeRequests(user.id)).toEqual([]);
	});

	it("requires a logged-in user and a well-formed body", async () => {
		const anonymous = await call<{ error: Json }>("/api/v1/billing/checkout", {
			json: { plan: "starter", interval: "month" },
		});
		expect(anonymous.status, anonymous.text).toBe(401);
		const user = await createUser();
		const bad = await call<{ error: Json }>("/api/v1/billing/checkout", {
			json: { plan: "starter", interval: "week", coupon: "FREE" },
			headers: asUser(user),
		});
		expect(bad.status, bad.text).toBe(400);
		expect(bad.body.error.fields).toEqual(expect.arrayContaining(["interval", "coupon"]));
	});

	it("answers 502 when Stripe fails, and is also served at the seed path /billing/checkout", async () => {
		const user = await createUser();
		await failStripe("POST", "/v1/checkout/sessions", 2);
		const failed = await call<{ error: Json }>("/billing/checkout", {
			json: { plan: "starter", interval: "month" },
			headers: asUser(user),
		});
		expect(failed.status, failed.text).toBe(502);
		expect(failed.body.error.code).toBe("BAD_GATEWAY");
		const ok = await call("/billing/checkout", {
			json: { plan: "starter", interval: "month" },
			headers: asUser(user),
		});
		expect(ok.status, ok.text).toBe(200);
	});
	it("rides out one Stripe failure: the SDK's retry reuses the attempt's idempotency key, so one session is made", async () => {
		const user = await createUser();
		await failStripe("POST", "/v1/checkout/sessions", 1);
		const res = await call<{ session_id: string }>("/api/v1/billing/checkout", {
			json: { plan: "starter", interval: "month" },
			headers: asUser(user),
		});
		expect(res.status, res.text).toBe(200);
		const attempts = (await stripeRequests(user.id)).filter(
			(r) => r.path === "/v1/checkout/sessions",
		);
		// The failed try and its retry, under one key; the session id answered is the retry's.
		expect(attempts.slice(-2).map((r) => r.idempotencyKey)).toEqual([
			attempts.at(-1)?.idempotencyKey,
			attempts.at(-1)?.idempotencyKey,
		]);
		expect(attempts.at(-1)?.idempotencyKey).toMatch(/^checkout-/);
	});
});

describe("POST /api/v1/billing/portal", () => {
	it("opens the Customer Portal for a customer, and 404s for a user who never checked out", async () => {
		const user = await createUser();
		const none = await call<{ error: Json }>("/api/v1/billing/portal", {
			method: "POST",
			headers: asUser(user),
		});
		expect(none.status, none.text).toBe(404);
		await checkout(user);
		const res = await call<{ url: string }>("/api/v1/billing/portal", {
			method: "POST",
			headers: asUser(user),
		});
		expect(res.status, res.text).toBe(200);
		expect(res.body.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
		const portal = (await stripeRequests("/v1/billing_portal/sessions")).at(-1);
		expect(portal?.params.return_url).toBe("http://license.test/billing/success");
	});
});

describe("the pages Checkout returns to", () => {
	it("tell the user what to run next, with a CSP that allows only inline styles", async () => {
		for (const [path, command] of [
			["/billing/success", "coditect activate"],
			["/billing/cancel", "coditect upgrade"],
		] as const) {
			const res = await call(path);
			expect(res.status, res.text).toBe(200);
			expect(res.headers.get("content-type")).toContain("text/html");
			expect(res.text).toContain(command);
			expect(res.headers.get("content-security-policy")).toBe(
				"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
			);
			expect(res.headers.get("x-frame-options")).toBe("DENY");
		}
	});
});

describe("POST /webhooks/stripe signatures", () => {
	const payload = JSON.stringify({
		id: `evt_sig_${crypto.randomUUID()}`,
		object: "event",
		type: "invoice.paid",
		created: 1,
		data: { object: { id: "in_x", object: "invoice" } },
	});
	const send = (headers: Record<string, string>, body = payload) =>
		call<{ error: Json }>("/webhooks/stripe", {
			method: "POST",
			body,
			headers: { "content-type": "application/json", ...headers },
		});

	it("refuses a missing, wrong, stale or tampered signature with 400 and an audit entry", async () => {
		const before = (await auditRows("webhook_signature_failure")).length;
		const now = Math.floor(Date.now() / 1000);
		const cases = [
			await send({}),
			await send({ "stripe-signature": "t=1,v1=deadbeef" }),
			await send({
				"stripe-signature": await signedHeader(payload, { secret: "whsec_someone_else" }),
			}),
			await send({ "stripe-signature": await signedHeader(payload, { timestamp: now - 600 }) }),
			await send(
				{ "stripe-signature": await signedHeader(payload) },
				payload.replace("invoice.paid", "charge.refunded"),
			),
		];
		for (const res of cases) {
			expect(res.status, res.text).toBe(400);
			expect(res.body.error.code).toBe("INVALID_REQUEST");
			expect(res.text).not.toContain("whsec_");
		}
		const after = await auditRows("webhook_signature_failure");
		expect(after.length - before).toBe(cases.length);
		expect(after.at(-1)?.result).toBe("denied");
	});

	it("accepts and ignores an event type it does not handle", async () => {
		const event = {
			id: `evt_unknown_${crypto.randomUUID()}`,
			object: "event",
			type: "customer.tax_id.created",
			created: 1,
			data: { object: { id: "txi_1", object: "tax_id" } },
		};
		const res = await deliver(event);
		expect(res.status, res.text).toBe(200);
		expect(res.body).toEqual({ received: true, outcome: "ignored" });
		const recorded = await sql()`select 1 from stripe_events where id = ${event.id}`;
		expect(recorded).toHaveLength(0);
	});
});

describe("a paid checkout", () => {
	it("creates one license owned by the buyer that activates and validates until the paid period ends", async () => {
		const c = await activeCustomer({ plan: "professional" });
		expect(c.license).toMatchObject({
			owner_id: c.user.id,
			plan_id: "professional",
			status: "active",
			max_activations: 3,
			source: "stripe",
			stripe_status: "active",
		});
		const sub = (await (
			await fetch(`${inject("stripeApiBase")}/_fake/objects/${c.subscriptionId}`)
		).json()) as { items: { data: Array<{ current_period_end: number }> } };
		const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
		expect(c.license.expires_at?.getTime()).toBe(periodEnd * 1000);

		const v = await c.validate();
		expect(v).toMatchObject({ valid: true, code: "VALID", license: { plan: "professional" } });
		expect(tokenExp(v.token ?? "")).toBeLessThanOrEqual(periodEnd);

		const completed = await auditRows("checkout_completed", { userId: c.user.id });
		expect(completed).toHaveLength(1);
		// The key never reaches the audit log.
		const created = await auditRows("license_create", { userId: c.user.id });
		expect(JSON.stringify(created)).not.toContain(c.key);
	});

	it("makes one license when the same event arrives ten times at once, with no 5xx", async () => {
		const user = await createUser();
		const { events, subscriptionId } = await checkout(user);
		const completed = events.find((e) => e.type === "checkout.session.completed") as StripeEvent;
		const results = await Promise.all(Array.from({ length: 10 }, () => deliver(completed)));
		expect(
			results.map((r) => r.status),
			results.map((r) => r.text).join("\n"),
		).toEqual(Array(10).fill(200));
		const outcomes = results.map((r) => r.body.outcome).sort();
		expect(outcomes).toEqual(["applied", ...Array(9).fill("duplicate")]);
		await theLicense(subscriptionId);
		const recorded = await sql()`select 1 from stripe_events where id = ${completed.id}`;
		expect(recorded).toHaveLength(1);
		expect(await auditRows("checkout_completed", { userId: user.id })).toHaveLength(1);
	});

	it("answers 502 while Stripe is down and applies the event when Stripe redelivers it", async () => {
		const user = await createUser();
		const { events, subscriptionId } = await checkout(user);
		const first = events[0] as StripeEvent;
		await failStripe("GET", `/v1/subscriptions/${subscriptionId}`, 2);
		const down = await deliver(first);
		expect(down.status, down.text).toBe(502);
		expect(await licensesOfSubscription(subscriptionId)).toHaveLength(0);
		const retry = await deliver(first);
		expect(retry.status, retry.text).toBe(200);
		expect(retry.body.outcome).toBe("applied");
		await theLicense(subscriptionId);
	});
});

describe("an async payment", () => {
	it("creates the license only once the payment clears", async () => {
		const user = await createUser();
		const bought = await checkout(user, { outcome: "async_pending" });
		await deliverAll(bought.events);
		expect(await licensesOfSubscription(bought.subscriptionId)).toHaveLength(0);
		const cleared = await stripeSide(`checkout/${bought.sessionId}/async`, { succeeded: true });
		await deliverAll(cleared.events);
		expect((await theLicense(bought.subscriptionId)).status).toBe("active");
		expect(await auditRows("checkout_completed", { userId: user.id })).toHaveLength(1);
	});

	it("never creates a license when the payment fails", async () => {
		const user = await createUser();
		const bought = await checkout(user, { outcome: "async_pending" });
		const failed = await stripeSide(`checkout/${bought.sessionId}/async`, { succeeded: false });
		await deliverAll([...bought.events, ...failed.events]);
		expect(await licensesOfSubscription(bought.subscriptionId)).toHaveLength(0);
	});
});

describe("the license follows the subscription", () => {
	it("goes PAST_DUE (still valid) when a renewal fails and VALID again when it is paid", async () => {
		const c = await activeCustomer();
		const failed = await stripeSide(`subscriptions/${c.subscriptionId}/renew`, { paid: false });
		await deliverAll(failed.events);
		const pastDue = await c.validate();
		expect(pastDue).toMatchObject({ valid: true, code: "PAST_DUE" });
		const row = await theLicense(c.subscriptionId);
		expect(row.status).toBe("past_due");
		// The token ends with the grace, never after it.
		expect(tokenExp(pastDue.token ?? "")).toBeLessThanOrEqual(
			(row.grace_until?.getTime() ?? 0) / 1000,
		);

		const paid = await stripeSide(`subscriptions/${c.subscriptionId}/pay`);
		await deliverAll(paid.events);
		expect(await c.validate()).toMatchObject({ valid: true, code: "VALID" });
		const renewed = await theLicense(c.subscriptionId);
		expect(renewed.expires_at?.getTime()).toBeGreaterThan(c.license.expires_at?.getTime() ?? 0);
		expect(renewed.grace_until).toBeNull();
	});

	it("stops being valid when the payment grace is over", async () => {
		// Stripe's clock: the first period ended 8 days ago and its renewal failed then, so the
		// 7-day grace (counted from the failed period's start) ran out yesterday.
		const user = await createUser();
		const bought = await checkout(user, { start: Math.floor(Date.now() / 1000) - 38 * DAY });
		const failed = await stripeSide(`subscriptions/${bought.subscriptionId}/renew`, {
			paid: false,
		});
		await deliverAll([...bought.events, ...failed.events]);
		const license = await theLicense(bought.subscriptionId);
		const key = await issueKey(license.id);
		const res = await call("/api/v1/licenses/validate", {
			json: { license_key: key, hardware_id: hardwareId() },
		});
		expect(res.body).toMatchObject({ valid: false, code: "PAST_DUE", token: null });
	});

	it("renews expires_at on each paid invoice", async () => {
		const c = await activeCustomer();
		const renewal = await stripeSide(`subscriptions/${c.subscriptionId}/renew`, { paid: true });
		await deliverAll(renewal.events);
		const row = await theLicense(c.subscriptionId);
		expect((row.expires_at?.getTime() ?? 0) - (c.license.expires_at?.getTime() ?? 0)).toBe(
			30 * DAY * 1000,
		);
	});

	it("stays valid after cancel-at-period-end until the period ends, then EXPIRED", async () => {
		const c = await activeCustomer();
		await deliverAll(
			(await stripeSide(`subscriptions/${c.subscriptionId}/cancel`, { at_period_end: true }))
				.events,
		);
		expect(await c.validate()).toMatchObject({ valid: true, code: "VALID" });
		await deliverAll((await stripeSide(`subscriptions/${c.subscriptionId}/end`)).events);
		expect(await c.validate()).toMatchObject({ valid: false, code: "EXPIRED" });
	});

	it("expires at once when the subscription is canceled immediately", async () => {
		const c = await activeCustomer();
		await deliverAll(
			(await stripeSide(`subscriptions/${c.subscriptionId}/cancel`, { at_period_end: false }))
				.events,
		);
		expect(await c.validate()).toMatchObject({ valid: false, code: "EXPIRED" });
	});

	it("follows a plan change made in the Portal", async () => {
		const c = await activeCustomer({ plan: "starter" });
		await deliverAll(
			(
				await stripeSide(`subscriptions/${c.subscriptionId}/change-plan`, {
					lookup_key: "professional_monthly",
				})
			).events,
		);
		expect(await theLicense(c.subscriptionId)).toMatchObject({
			plan_id: "professional",
			max_activations: 3,
		});
		expect((await c.validate()).license).toMatchObject({ plan: "professional" });
	});

	it("is revoked by a full refund, and not by a partial one", async () => {
		const c = await activeCustomer();
		const chargeId = c.chargeId ?? "";
		await deliverAll((await stripeSide(`charges/${chargeId}/refund`, { amount: 500 })).events);
		expect(await c.validate()).toMatchObject({ valid: true, code: "VALID" });
		await deliverAll((await stripeSide(`charges/${chargeId}/refund`)).events);
		expect(await c.validate()).toMatchObject({ valid: false, code: "REVOKED" });
		// Revocation is final: later subscription news does not bring it back.
		await deliverAll(
			(await stripeSide(`subscriptions/${c.subscriptionId}/renew`, { paid: true })).events,
		);
		expect(await c.validate()).toMatchObject({ valid: false, code: "REVOKED" });
	});

	it("cancels the subscription when a full refund revokes the license, once, audited", async () => {
		const c = await activeCustomer();
		const refunded = await stripeSide(`charges/${c.chargeId ?? ""}/refund`);
		await deliverAll(refunded.events);
		// Stripe delivers twice now and then: the second delivery must not cancel again.
		for (const e of refunded.events) await deliver({ ...e, id: `${e.id}_again` });
		expect(await c.validate()).toMatchObject({ valid: false, code: "REVOKED" });
		const cancels = (await stripeRequests(c.subscriptionId)).filter((r) => r.method === "DELETE");
		expect(cancels, JSON.stringify(cancels)).toHaveLength(1);
		const audited = await auditRows("subscription_cancel", { contains: c.subscriptionId });
		expect(audited.map((a) => a.result)).toEqual(["canceled"]);
	});

	it("cancels the subscription of a license revoked by an operator when the next invoice is paid", async () => {
		const c = await activeCustomer();
		const revoked = await call(`/api/v1/admin/licenses/${c.license.id}/revoke`, {
			method: "POST",
			admin: true,
		});
		expect(revoked.status, revoked.text).toBe(200);
		await deliverAll(
			(await stripeSide(`subscriptions/${c.subscriptionId}/renew`, { paid: true })).events,
		);
		const cancels = (await stripeRequests(c.subscriptionId)).filter((r) => r.method === "DELETE");
		expect(cancels).toHaveLength(1);
		const audited = await auditRows("subscription_cancel", { contains: c.subscriptionId });
		expect(audited.map((a) => a.result)).toEqual(["canceled"]);
	});

	it("is suspended by a dispute, reinstated when it is won, and revoked when one is lost", async () => {
		const c = await activeCustomer();
		const chargeId = c.chargeId ?? "";
		const opened = await stripeSide<{ dispute_id: string }>(`charges/${chargeId}/dispute`);
		await deliverAll(opened.events);
		expect(await c.validate()).toMatchObject({ valid: false, code: "SUSPENDED" });
		await deliverAll(
			(await stripeSide(`disputes/${opened.dispute_id}/close`, { status: "won" })).events,
		);
		expect(await c.validate()).toMatchObject({ valid: true, code: "VALID" });

		const again = await stripeSide<{ dispute_id: string }>(`charges/${chargeId}/dispute`);
		await deliverAll(again.events);
		await deliverAll(
			(await stripeSide(`disputes/${again.dispute_id}/close`, { status: "lost" })).events,
		);
		expect(await c.validate()).toMatchObject({ valid: false, code: "REVOKED" });
	});

	it("keeps an operator's suspension when Stripe news arrives", async () => {
		const c = await activeCustomer();
		const suspend = await call(`/api/v1/admin/licenses/${c.license.id}/suspend`, {
			method: "POST",
			admin: true,
		});
		expect(suspend.status, suspend.text).toBe(200);
		await deliverAll(
			(await stripeSide(`subscriptions/${c.subscriptionId}/renew`, { paid: true })).events,
		);
		expect(await c.validate()).toMatchObject({ valid: false, code: "SUSPENDED" });
	});
});
