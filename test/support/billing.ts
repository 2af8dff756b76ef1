/**
 * Billing helpers for tests inside workerd: users made directly in the database (accounts are
 * another issue), access tokens minted with the run's JWT secret, the fake Stripe driven over
 * HTTP, and Stripe events signed the way Stripe signs them.
 */
import postgres from "postgres";
import Stripe from "stripe";
import { inject } from "vitest";
import { importJwtSecret, signAccessToken } from "../../src/accounts/access-token";
import { newId } from "../../src/ids";
import {
	generateLicenseKey,
	hashLicenseKey,
	importKeyPepper,
	licenseKeyLast4,
} from "../../src/kernel/index";
import { type ApiResponse, call } from "./worker-client";

type Json = Record<string, unknown>;

export interface StripeEvent extends Json {
	id: string;
	type: string;
	created: number;
	data: { object: Json & { id: string } };
}

let sqlClient: postgres.Sql | undefined;
/** One small client per test file; never ended (ending sockets in workerd rejects unhandled). */
export function sql(): postgres.Sql {
	sqlClient ??= postgres(inject("databaseUrl"), { max: 2, fetch_types: false, onnotice: () => {} });
	return sqlClient;
}

export interface TestUser {
	id: string;
	email: string;
	token: string;
}

export async function createUser(label = "buyer"): Promise<TestUser> {
	const id = newId("usr");
	const email = `${label}-${id.slice(4, 14)}@example.test`;
	await sql()`insert into users (id, email, email_verified_at) values (${id}, ${email}, now())`;
	// A live session (refresh-token family) for the access token: requireUser checks it.
	const family = newId("rtf");
	await sql()`insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
		values (${newId("rtk")}, ${id}, ${family}, ${crypto.randomUUID()}, now() + interval '1 day')`;
	const key = await importJwtSecret(inject("jwtSecret"));
	const token = await signAccessToken(key, "http://license.test", {
		userId: id,
		email,
		sessionId: family,
	});
	return { id, email, token };
}

/** Drives the fake Stripe's simulation (`/_fake/<resource>/<id>/<action>`). */
export async function stripeSide<T extends Json = Json>(
	path: string,
	body: Json = {},
): Promise<T & { events: StripeEvent[] }> {
	const res = await fetch(`${inject("stripeApiBase")}/_fake/${path}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`fake ${path}: ${res.status} ${text}`);
	return JSON.parse(text) as T & { events: StripeEvent[] };
}

export interface SeenRequest {
	method: string;
	path: string;
	params: Json;
	idempotencyKey: string | null;
	authorized: boolean;
}

/** What the fake Stripe was asked, filtered to requests mentioning `contains`. */
export async function stripeRequests(contains: string): Promise<SeenRequest[]> {
	const res = await fetch(
		`${inject("stripeApiBase")}/_fake/requests?contains=${encodeURIComponent(contains)}`,
	);
	return ((await res.json()) as { requests: SeenRequest[] }).requests;
}

export async function failStripe(method: string, path: string, times: number): Promise<void> {
	await fetch(`${inject("stripeApiBase")}/_fake/fail`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ method, path, times, status: 500 }),
	});
}

/** Signs like Stripe does (v1 HMAC over `timestamp.payload`). */
export async function signedHeader(
	payload: string,
	opts: { secret?: string; timestamp?: number } = {},
): Promise<string> {
	return Stripe.webhooks.generateTestHeaderStringAsync({
		payload,
		secret: opts.secret ?? inject("stripeWebhookSecret"),
		...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
	});
}

/** Delivers one event to the Worker, signed, as Stripe's webhook sender would. */
export async function deliver(event: StripeEvent): Promise<ApiResponse> {
	const payload = JSON.stringify(event);
	return call("/webhooks/stripe", {
		method: "POST",
		body: payload,
		headers: {
			"content-type": "application/json; charset=utf-8",
			"stripe-signature": await signedHeader(payload),
			"user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
		},
	});
}

/** Delivers each event and insists every delivery is accepted. */
export async function deliverAll(events: StripeEvent[]): Promise<void> {
	for (const event of events) {
		const res = await deliver(event);
		if (res.status !== 200) throw new Error(`${event.type}: ${res.status} ${res.text}`);
	}
}

/** A checkout through the API as `user`, completed on Stripe's side. */
export async function checkout(
	user: TestUser,
	opts: {
		plan?: string;
		interval?: "month" | "year";
		/** Team plans: seats to buy (the subscription's quantity). */
		seats?: number;
		outcome?: "paid" | "async_pending";
		/** Stripe-side start of the subscription (epoch seconds); default a minute ago. */
		start?: number;
	} = {},
): Promise<{
	sessionId: string;
	subscriptionId: string;
	chargeId: string | null;
	events: StripeEvent[];
}> {
	const res = await call<{ url: string; session_id: string }>("/api/v1/billing/checkout", {
		json: {
			plan: opts.plan ?? "starter",
			interval: opts.interval ?? "month",
			...(opts.seats ? { seats: opts.seats } : {}),
		},
		headers: { authorization: `Bearer ${user.token}` },
	});
	if (res.status !== 200) throw new Error(`checkout: ${res.status} ${res.text}`);
	const done = await stripeSide<{ subscription_id: string; charge_id: string | null }>(
		`checkout/${res.body.session_id}/complete`,
		{ outcome: opts.outcome ?? "paid", ...(opts.start ? { start: opts.start } : {}) },
	);
	return {
		sessionId: res.body.session_id,
		subscriptionId: done.subscription_id,
		chargeId: done.charge_id,
		events: done.events,
	};
}

export interface StoredLicense {
	id: string;
	owner_id: string | null;
	plan_id: string;
	status: string;
	expires_at: Date | null;
	grace_until: Date | null;
	max_activations: number;
	stripe_status: string | null;
	stripe_open_disputes: string[];
	source: string;
}

export async function licensesOfSubscription(subscriptionId: string): Promise<StoredLicense[]> {
	return sql()<StoredLicense[]>`
		select id, owner_id, plan_id, status, expires_at, grace_until, max_activations,
			stripe_status, stripe_open_disputes, source
		from licenses where stripe_subscription_id = ${subscriptionId}`;
}

/**
 * Gives the owner a usable key for their license, as `POST /api/v1/licenses/:id/keys` (the
 * accounts issue) will: a fresh key, stored only as its keyed hash.
 */
export async function issueKey(licenseId: string): Promise<string> {
	const key = generateLicenseKey();
	const hash = await hashLicenseKey(await importKeyPepper(inject("pepper")), key);
	await sql()`update licenses set key_hash = ${hash}, key_last4 = ${licenseKeyLast4(key)}
		where id = ${licenseId}`;
	return key;
}

export async function auditRows(
	action: string,
	where: { userId?: string; licenseId?: string; contains?: string } = {},
): Promise<Array<{ action: string; result: string; user_id: string | null; detail: Json | null }>> {
	const rows = await sql()<
		Array<{ action: string; result: string; user_id: string | null; detail: Json | null }>
	>`select action, result, user_id, detail from audit_logs where action = ${action}
		order by at`;
	return rows.filter(
		(r) =>
			(!where.userId || r.user_id === where.userId) &&
			(!where.contains || JSON.stringify(r.detail).includes(where.contains)),
	);
}
