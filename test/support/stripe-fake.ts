/**
 * A small fake of the Stripe API on a loopback port, for the real `stripe` SDK (there is no
 * stripe-mock here). It keeps objects in memory, records every request it is asked, honours
 * idempotency keys, and can be told to fail.
 *
 * It also plays Stripe's side of a subscription under `/_fake/…`: completing a checkout,
 * renewals that are paid or fail, plan changes, cancellation, refunds and disputes. Each of
 * those changes the objects the API then returns and answers with the events Stripe would send,
 * each carrying a snapshot of its object as it was at that moment (as real events do). Tests sign
 * the events and deliver them to the Worker in whatever order they want.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Obj = Record<string, unknown> & { id: string; object: string };
type Json = Record<string, unknown>;

export interface RecordedRequest {
	method: string;
	path: string;
	/** Query parameters (GET) or the form body (POST), decoded into nested objects. */
	params: Json;
	idempotencyKey: string | null;
	authorized: boolean;
}

export interface FakeStripe {
	url: string;
	close(): Promise<void>;
}

const DAY = 86_400;
const PERIOD = { month: 30 * DAY, year: 365 * DAY } as const;

export async function startFakeStripe(opts: { secretKey: string }): Promise<FakeStripe> {
	const objects = new Map<string, Obj>();
	const requests: RecordedRequest[] = [];
	const idempotent = new Map<string, { status: number; body: unknown }>();
	const failures: Array<{ method: string; path: string; times: number; status: number }> = [];

	const newId = (prefix: string) => `${prefix}_${randomBytes(10).toString("hex")}`;
	const put = <T extends Obj>(o: T): T => {
		objects.set(o.id, o);
		return o;
	};
	const get = (id: string): Obj | undefined => objects.get(id);
	const list = (data: Obj[], url: string) => ({ object: "list", data, has_more: false, url });
	const snapshot = (o: Obj): Obj => structuredClone(o);

	function event(type: string, object: Obj, created: number): Obj {
		return {
			id: newId("evt"),
			object: "event",
			api_version: "2026-10-28.endive",
			created,
			type,
			livemode: false,
			pending_webhooks: 1,
			request: { id: null, idempotency_key: null },
			data: { object: snapshot(object) },
		};
	}

	// ---- the Stripe API the SDK talks to -------------------------------------------------

	type Handler = (params: Json, match: string[]) => { status: number; body: unknown };
	const ok = (body: unknown) => ({ status: 200, body });
	const missing = (id: string | undefined) => ({
		status: 404,
		body: {
			error: {
				type: "invalid_request_error",
				code: "resource_missing",
				message: `No such object: '${id ?? ""}'`,
			},
		},
	});
	const retrieve =
		(object: string): Handler =>
		(_p, [id]) => {
			const o = id ? get(id) : undefined;
			return o && o.object === object ? ok(o) : missing(id);
		};

	const routes: Array<[string, RegExp, Handler]> = [
		[
			"POST",
			/^\/v1\/customers$/,
			(p) =>
				ok(
					put({
						id: newId("cus"),
						object: "customer",
						email: p.email ?? null,
						metadata: p.metadata ?? {},
					}),
				),
		],
		["GET", /^\/v1\/customers\/([^/]+)$/, retrieve("customer")],
		[
			"GET",
			/^\/v1\/prices$/,
			(p) => {
				const keys = asArray(p.lookup_keys);
				const data = [...objects.values()].filter(
					(o) =>
						o.object === "price" &&
						(keys.length === 0 || keys.includes(String(o.lookup_key))) &&
						(p.active === undefined || String(o.active) === p.active),
				);
				return ok(list(data, "/v1/prices"));
			},
		],
		[
			"POST",
			/^\/v1\/prices$/,
			(p) => {
				if (p.lookup_key && p.transfer_lookup_key === "true")
					releaseLookupKey(String(p.lookup_key));
				const recurring = (p.recurring ?? null) as Json | null;
				return ok(
					put({
						id: newId("price"),
						object: "price",
						active: true,
						currency: p.currency ?? "usd",
						unit_amount: Number(p.unit_amount),
						product: p.product,
						lookup_key: p.lookup_key ?? null,
						nickname: p.nickname ?? null,
						metadata: p.metadata ?? {},
						recurring: recurring
							? { interval: recurring.interval, interval_count: 1, usage_type: "licensed" }
							: null,
						type: recurring ? "recurring" : "one_time",
					}),
				);
			},
		],
		[
			"POST",
			/^\/v1\/prices\/([^/]+)$/,
			(p, [id]) => {
				const price = id ? get(id) : undefined;
				if (!price) return missing(id);
				if (p.lookup_key && p.transfer_lookup_key === "true")
					releaseLookupKey(String(p.lookup_key));
				if (p.lookup_key !== undefined) price.lookup_key = p.lookup_key || null;
				if (p.active !== undefined) price.active = p.active === "true";
				if (p.metadata) price.metadata = { ...(price.metadata as Json), ...(p.metadata as Json) };
				return ok(price);
			},
		],
		["GET", /^\/v1\/products\/([^/]+)$/, retrieve("product")],
		[
			"POST",
			/^\/v1\/products$/,
			(p) => {
				const id = typeof p.id === "string" ? p.id : newId("prod");
				if (get(id)) {
					return {
						status: 400,
						body: {
							error: {
								type: "invalid_request_error",
								code: "resource_already_exists",
								message: "exists",
							},
						},
					};
				}
				return ok(
					put({
						id,
						object: "product",
						active: true,
						name: p.name,
						description: p.description ?? null,
						metadata: p.metadata ?? {},
					}),
				);
			},
		],
		[
			"POST",
			/^\/v1\/products\/([^/]+)$/,
			(p, [id]) => {
				const product = id ? get(id) : undefined;
				if (!product) return missing(id);
				for (const k of ["name", "description"]) if (p[k] !== undefined) product[k] = p[k];
				if (p.active !== undefined) product.active = p.active === "true";
				if (p.metadata)
					product.metadata = { ...(product.metadata as Json), ...(p.metadata as Json) };
				return ok(product);
			},
		],
		[
			"POST",
			/^\/v1\/checkout\/sessions$/,
			(p) => {
				const id = newId("cs_test");
				const customer = typeof p.customer === "string" ? get(p.customer) : undefined;
				if (!customer) return missing(String(p.customer));
				const items = asArray(p.line_items) as Json[];
				for (const item of items) {
					if (!get(String(item.price))) return missing(String(item.price));
				}
				return ok(
					put({
						id,
						object: "checkout.session",
						mode: p.mode,
						status: "open",
						payment_status: "unpaid",
						customer: customer.id,
						client_reference_id: p.client_reference_id ?? null,
						metadata: p.metadata ?? {},
						subscription: null,
						success_url: p.success_url,
						cancel_url: p.cancel_url,
						url: `https://checkout.stripe.test/c/pay/${id}`,
						// Kept for the simulation below; real sessions expose these differently.
						_line_items: items,
						_subscription_data: p.subscription_data ?? {},
					}),
				);
			},
		],
		[
			"POST",
			/^\/v1\/billing_portal\/sessions$/,
			(p) => {
				const customer = typeof p.customer === "string" ? get(p.customer) : undefined;
				if (!customer) return missing(String(p.customer));
				const id = newId("bps");
				return ok(
					put({
						id,
						object: "billing_portal.session",
						customer: customer.id,
						return_url: p.return_url ?? null,
						url: `https://billing.stripe.test/p/session/${id}`,
					}),
				);
			},
		],
		["GET", /^\/v1\/subscriptions\/([^/]+)$/, retrieve("subscription")],
		[
			// Cancel now (what the Dashboard's "cancel immediately" does); a second cancel is an error, as at Stripe.
			"DELETE",
			/^\/v1\/subscriptions\/([^/]+)$/,
			(_p, [id]) => {
				const sub = id ? get(id) : undefined;
				if (sub?.object !== "subscription") return missing(id);
				if (sub.status === "canceled") {
					return {
						status: 400,
						body: {
							error: {
								type: "invalid_request_error",
								message: "This subscription has already been canceled.",
							},
						},
					};
				}
				const at = Math.floor(Date.now() / 1000);
				Object.assign(sub, { status: "canceled", canceled_at: at, ended_at: at });
				return ok(sub);
			},
		],
		["GET", /^\/v1\/invoices\/([^/]+)$/, retrieve("invoice")],
		["GET", /^\/v1\/charges\/([^/]+)$/, retrieve("charge")],
		["GET", /^\/v1\/disputes\/([^/]+)$/, retrieve("dispute")],
		[
			"GET",
			/^\/v1\/invoice_payments$/,
			(p) => {
				const pi = (p.payment as Json | undefined)?.payment_intent;
				const data = [...objects.values()].filter(
					(o) =>
						o.object === "invoice_payment" && (o.payment as Json).payment_intent === String(pi),
				);
				return ok(list(data, "/v1/invoice_payments"));
			},
		],
	];

	function releaseLookupKey(key: string): void {
		for (const o of objects.values()) {
			if (o.object === "price" && o.lookup_key === key) o.lookup_key = null;
		}
	}

	// ---- Stripe's side of a subscription's life --------------------------------------------

	function subscriptionOf(id: string): Obj {
		const sub = get(id);
		if (sub?.object !== "subscription") throw new FakeError(404, `no subscription ${id}`);
		return sub;
	}
	function item(sub: Obj): Json {
		const first = ((sub.items as Json).data as Json[])[0];
		if (!first) throw new FakeError(500, "subscription without items");
		return first;
	}
	function intervalOf(sub: Obj): keyof typeof PERIOD {
		const recurring = (item(sub).price as Json).recurring as Json | null;
		return recurring?.interval === "year" ? "year" : "month";
	}
	/** An invoice for the subscription's current period, paid (with a charge) or left open. */
	function invoiceFor(sub: Obj, paid: boolean, at: number): { invoice: Obj; charge: Obj | null } {
		const price = item(sub).price as Json;
		const amount = Number(price.unit_amount);
		const pi = newId("pi");
		const invoice = put({
			id: newId("in"),
			object: "invoice",
			customer: sub.customer,
			status: paid ? "paid" : "open",
			amount_due: amount,
			amount_paid: paid ? amount : 0,
			created: at,
			period_start: item(sub).current_period_start,
			period_end: item(sub).current_period_end,
			parent: {
				type: "subscription_details",
				quote_details: null,
				subscription_details: { subscription: sub.id, metadata: sub.metadata },
			},
			_payment_intent: pi,
		});
		sub.latest_invoice = invoice.id;
		const charge = paid ? chargeFor(invoice, at) : null;
		return { invoice, charge };
	}
	function chargeFor(invoice: Obj, at: number): Obj {
		const pi = String(invoice._payment_intent);
		const charge = put({
			id: newId("ch"),
			object: "charge",
			amount: invoice.amount_due,
			amount_refunded: 0,
			refunded: false,
			disputed: false,
			customer: invoice.customer,
			payment_intent: pi,
			created: at,
		});
		put({
			id: newId("inpay"),
			object: "invoice_payment",
			invoice: invoice.id,
			amount_paid: invoice.amount_due,
			status: "paid",
			payment: { type: "payment_intent", payment_intent: pi },
			created: at,
		});
		return charge;
	}

	const sim: Record<string, (body: Json, id: string) => { events: Obj[] } & Json> = {
		/** The customer pays (card) or starts an async payment (bank debit) on the Checkout page. */
		"checkout/complete": (body, sessionId) => {
			const session = get(sessionId);
			if (!session) throw new FakeError(404, `no session ${sessionId}`);
			const start = Number(body.start ?? Math.floor(Date.now() / 1000) - 60);
			const paid = body.outcome !== "async_pending";
			const line = (session._line_items as Json[])[0];
			const price = get(String(line?.price));
			if (!price) throw new FakeError(400, "session without a price");
			const interval = (price.recurring as Json | null)?.interval === "year" ? "year" : "month";
			const subId = newId("sub");
			const sub = put({
				id: subId,
				object: "subscription",
				customer: session.customer,
				status: paid ? "active" : "incomplete",
				metadata: ((session._subscription_data as Json).metadata as Json | undefined) ?? {},
				items: {
					object: "list",
					has_more: false,
					data: [
						{
							id: newId("si"),
							object: "subscription_item",
							price,
							quantity: Number(line?.quantity ?? 1),
							subscription: subId,
							current_period_start: start,
							current_period_end: start + PERIOD[interval],
						},
					],
				},
				cancel_at_period_end: false,
				cancel_at: null,
				canceled_at: null,
				ended_at: null,
				start_date: start,
				created: start,
				latest_invoice: null,
			});
			const { charge } = invoiceFor(sub, paid, start);
			const invoice = get(String(sub.latest_invoice)) as Obj;
			Object.assign(session, {
				status: "complete",
				payment_status: paid ? "paid" : "unpaid",
				subscription: subId,
			});
			const events = [
				event("checkout.session.completed", session, start),
				event("customer.subscription.created", sub, start),
			];
			if (paid) events.push(event("invoice.paid", invoice, start));
			return { events, subscription_id: subId, charge_id: charge?.id ?? null };
		},
		/** The bank debit of an async checkout clears or fails. */
		"checkout/async": (body, sessionId) => {
			const session = get(sessionId);
			const sub = subscriptionOf(String(session?.subscription));
			if (!session) throw new FakeError(404, "no session");
			const invoice = get(String(sub.latest_invoice)) as Obj;
			const at = Number(item(sub).current_period_start) + 3 * DAY;
			if (body.succeeded === true) {
				invoice.status = "paid";
				invoice.amount_paid = invoice.amount_due;
				const charge = chargeFor(invoice, at);
				sub.status = "active";
				session.payment_status = "paid";
				return {
					events: [
						event("checkout.session.async_payment_succeeded", session, at),
						event("invoice.paid", invoice, at),
						event("customer.subscription.updated", sub, at),
					],
					charge_id: charge.id,
				};
			}
			sub.status = "incomplete_expired";
			return {
				events: [
					event("checkout.session.async_payment_failed", session, at),
					event("customer.subscription.updated", sub, at),
				],
			};
		},
		/** The period ends; Stripe moves it forward and tries to collect. */
		"subscriptions/renew": (body, id) => {
			const sub = subscriptionOf(id);
			const it = item(sub);
			const start = Number(it.current_period_end);
			it.current_period_start = start;
			it.current_period_end = start + PERIOD[intervalOf(sub)];
			const paid = body.paid !== false;
			const { invoice, charge } = invoiceFor(sub, paid, start);
			sub.status = paid ? "active" : "past_due";
			return {
				events: [
					event(paid ? "invoice.paid" : "invoice.payment_failed", invoice, start),
					event("customer.subscription.updated", sub, start),
				],
				charge_id: charge?.id ?? null,
			};
		},
		/** A retry (or a new card in the Portal) pays the open invoice. */
		"subscriptions/pay": (_body, id) => {
			const sub = subscriptionOf(id);
			const invoice = get(String(sub.latest_invoice)) as Obj;
			const at = Number(item(sub).current_period_start) + 2 * DAY;
			invoice.status = "paid";
			invoice.amount_paid = invoice.amount_due;
			const charge = chargeFor(invoice, at);
			sub.status = "active";
			return {
				events: [
					event("invoice.paid", invoice, at),
					event("customer.subscription.updated", sub, at),
				],
				charge_id: charge.id,
			};
		},
		/** Stripe gave up retrying and the account is set to mark such subscriptions unpaid. */
		"subscriptions/give-up": (_body, id) => {
			const sub = subscriptionOf(id);
			sub.status = "unpaid";
			const at = Number(item(sub).current_period_start) + 20 * DAY;
			return { events: [event("customer.subscription.updated", sub, at)] };
		},
		"subscriptions/change-plan": (body, id) => {
			const sub = subscriptionOf(id);
			const price = [...objects.values()].find(
				(o) => o.object === "price" && o.lookup_key === body.lookup_key && o.active === true,
			);
			if (!price) throw new FakeError(400, `no price ${String(body.lookup_key)}`);
			item(sub).price = price;
			const at = Number(item(sub).current_period_start) + DAY;
			return { events: [event("customer.subscription.updated", sub, at)] };
		},
		/** Seats added or removed in the Portal: a new quantity on the subscription's item. */
		"subscriptions/change-quantity": (body, id) => {
			const sub = subscriptionOf(id);
			item(sub).quantity = Number(body.quantity);
			const at = Number(item(sub).current_period_start) + DAY;
			return { events: [event("customer.subscription.updated", sub, at)] };
		},
		"subscriptions/cancel": (body, id) => {
			const sub = subscriptionOf(id);
			const at = Number(item(sub).current_period_start) + 5 * DAY;
			if (body.at_period_end === true) {
				sub.cancel_at_period_end = true;
				sub.cancel_at = item(sub).current_period_end;
				sub.canceled_at = at;
				return { events: [event("customer.subscription.updated", sub, at)] };
			}
			Object.assign(sub, { status: "canceled", canceled_at: at, ended_at: at });
			return { events: [event("customer.subscription.deleted", sub, at)] };
		},
		/** A subscription set to cancel at period end reaches it. */
		"subscriptions/end": (_body, id) => {
			const sub = subscriptionOf(id);
			const at = Number(item(sub).current_period_end);
			Object.assign(sub, { status: "canceled", ended_at: at });
			return { events: [event("customer.subscription.deleted", sub, at)] };
		},
		"charges/refund": (body, id) => {
			const charge = get(id);
			if (!charge) throw new FakeError(404, `no charge ${id}`);
			const amount = Number(body.amount ?? charge.amount);
			charge.amount_refunded = Math.min(
				Number(charge.amount),
				Number(charge.amount_refunded) + amount,
			);
			charge.refunded = charge.amount_refunded === charge.amount;
			return {
				events: [event("charge.refunded", charge, Number(charge.created) + DAY)],
			};
		},
		"charges/dispute": (_body, id) => {
			const charge = get(id);
			if (!charge) throw new FakeError(404, `no charge ${id}`);
			charge.disputed = true;
			const dispute = put({
				id: newId("dp"),
				object: "dispute",
				charge: charge.id,
				payment_intent: charge.payment_intent,
				amount: charge.amount,
				status: "needs_response",
				reason: "fraudulent",
				created: Number(charge.created) + 2 * DAY,
			});
			return {
				events: [event("charge.dispute.created", dispute, Number(dispute.created))],
				dispute_id: dispute.id,
			};
		},
		"disputes/close": (body, id) => {
			const dispute = get(id);
			if (!dispute) throw new FakeError(404, `no dispute ${id}`);
			dispute.status = body.status === "lost" ? "lost" : "won";
			return {
				events: [event("charge.dispute.closed", dispute, Number(dispute.created) + 10 * DAY)],
			};
		},
	};

	// ---- HTTP ------------------------------------------------------------------------------

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? "/", "http://fake");
		const raw = await readBody(req);
		const send = (status: number, body: unknown) => {
			res.writeHead(status, { "content-type": "application/json", "request-id": newId("req") });
			res.end(JSON.stringify(body));
		};

		if (url.pathname.startsWith("/_fake/")) {
			const path = url.pathname.slice("/_fake/".length);
			const body = raw ? (JSON.parse(raw) as Json) : {};
			if (req.method === "GET" && path === "requests") {
				const contains = url.searchParams.get("contains");
				return send(200, {
					requests: requests.filter(
						(r) => !contains || JSON.stringify(r).includes(contains) || r.path.includes(contains),
					),
				});
			}
			if (req.method === "GET" && path.startsWith("objects/")) {
				const o = get(path.slice("objects/".length));
				return o ? send(200, o) : send(404, { error: "missing" });
			}
			if (req.method === "POST" && path === "fail") {
				failures.push({
					method: String(body.method ?? "GET"),
					path: String(body.path),
					times: Number(body.times ?? 1),
					status: Number(body.status ?? 500),
				});
				return send(200, { ok: true });
			}
			// `/_fake/<resource>/<id>/<action>` → sim["<resource>/<action>"]
			const m = /^([a-z]+)\/([^/]+)\/([a-z-]+)$/.exec(path);
			const action = m ? sim[`${m[1]}/${m[3]}`] : undefined;
			if (req.method !== "POST" || !m || !action) return send(404, { error: "no such control" });
			try {
				return send(200, action(body, m[2] ?? ""));
			} catch (err) {
				if (err instanceof FakeError) return send(err.status, { error: err.message });
				throw err;
			}
		}

		const params =
			req.method === "GET" ? decodeForm(url.searchParams) : decodeForm(new URLSearchParams(raw));
		const authorized = req.headers.authorization === `Bearer ${opts.secretKey}`;
		const idempotencyKey = header(req, "idempotency-key");
		requests.push({
			method: req.method ?? "GET",
			path: url.pathname,
			params,
			idempotencyKey,
			authorized,
		});
		if (!authorized) {
			return send(401, {
				error: { type: "invalid_request_error", message: "Invalid API Key provided." },
			});
		}
		const failure = failures.find(
			(f) => f.times > 0 && f.method === req.method && url.pathname.startsWith(f.path),
		);
		if (failure) {
			failure.times--;
			return send(failure.status, {
				error: { type: "api_error", message: "The fake was told to fail." },
			});
		}
		const cacheKey = idempotencyKey ? `${req.method} ${url.pathname} ${idempotencyKey}` : null;
		const cached = cacheKey ? idempotent.get(cacheKey) : undefined;
		if (cached) return send(cached.status, cached.body);
		for (const [method, pattern, handler] of routes) {
			const match = method === req.method ? pattern.exec(url.pathname) : null;
			if (!match) continue;
			const result = handler(params, match.slice(1));
			if (cacheKey) idempotent.set(cacheKey, result);
			return send(result.status, result.body);
		}
		send(404, {
			error: { type: "invalid_request_error", message: `Unrecognized request URL ${url.pathname}` },
		});
	}

	const server = createServer((req, res) => {
		handle(req, res).catch((err: unknown) => {
			res.writeHead(500, { "content-type": "application/json" });
			res.end(JSON.stringify({ error: { type: "api_error", message: String(err) } }));
		});
	});
	await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((ok) => {
				server.closeAllConnections();
				server.close(() => ok());
			}),
	};
}

class FakeError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

function header(req: IncomingMessage, name: string): string | null {
	const v = req.headers[name];
	return typeof v === "string" ? v : null;
}

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((ok, fail) => {
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("end", () => ok(Buffer.concat(chunks).toString("utf8")));
		req.on("error", fail);
	});
}

/** `a[b][0][c]=x` (the SDK's encoding) → `{a: {b: [{c: "x"}]}}`. */
export function decodeForm(params: URLSearchParams): Json {
	const root: Json = {};
	for (const [key, value] of params) {
		const path = key.replace(/\]/g, "").split("[");
		let node: Json = root;
		path.forEach((segment, i) => {
			if (i === path.length - 1) {
				node[segment] = value;
				return;
			}
			node[segment] ??= {};
			node = node[segment] as Json;
		});
	}
	return arraysFromIndexes(root) as Json;
}

function arraysFromIndexes(value: unknown): unknown {
	if (typeof value !== "object" || value === null) return value;
	const entries = Object.entries(value as Json).map(([k, v]) => [k, arraysFromIndexes(v)] as const);
	if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) {
		return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
	}
	return Object.fromEntries(entries);
}

function asArray(v: unknown): unknown[] {
	if (Array.isArray(v)) return v;
	return v === undefined ? [] : [v];
}
