/**
 * What the account tests do outside the CLI, the way the real parties would: the operator
 * mints invites, the user reads the mailed code (the fake Resend endpoint), the browser
 * follows the provider's redirect (oauth2-mock-server), Stripe completes a checkout and
 * sends its signed webhooks (the fake Stripe). All of it over HTTP against the real server.
 */
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Stripe from "stripe";
import { expect, inject } from "vitest";
import { type LicenseServer, runCli, show } from "./helpers";

type Json = Record<string, unknown>;

export const PASSWORD = "correct horse battery";

export interface Session {
	access_token: string;
	refresh_token: string;
	user: { id: string; email: string };
}

export function randomEmail(label = "user"): string {
	return `${label}-${randomUUID().slice(0, 8)}@example.test`;
}

/** One request to the server: its status and parsed body. */
export async function api(
	server: LicenseServer,
	method: "GET" | "POST" | "DELETE",
	path: string,
	opts: { json?: unknown; bearer?: string } = {},
): Promise<{ status: number; body: Json }> {
	const res = await fetch(`${server.url}${path}`, {
		method,
		headers: {
			...(opts.json === undefined ? {} : { "content-type": "application/json" }),
			...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}),
		},
		body: opts.json === undefined ? null : JSON.stringify(opts.json),
	});
	const text = await res.text();
	return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

export async function mintInvite(server: LicenseServer): Promise<string> {
	const { codes } = (await server.admin("/invites", { count: 1 })) as { codes: string[] };
	const [code] = codes;
	if (!code) throw new Error("no invite minted");
	return code;
}

/** The 6-digit code in the latest mail to `to` (mail goes out just after the response). */
export async function verificationCode(to: string): Promise<string> {
	for (let i = 0; i < 100; i++) {
		const res = await fetch(`${inject("oauthIssuer")}/_test/mails?to=${encodeURIComponent(to)}`);
		const { mails } = (await res.json()) as { mails: Array<{ text: string }> };
		const code = mails.at(-1)?.text.match(/\b(\d{6})\b/)?.[1];
		if (code) return code;
		await new Promise((ok) => setTimeout(ok, 50));
	}
	throw new Error(`no verification code mailed to ${to}`);
}

/** A verified account made through the API (signup with an invite, then the mailed code). */
export async function createAccount(
	server: LicenseServer,
	email = randomEmail(),
): Promise<{ email: string; password: string; session: Session }> {
	const invite = await mintInvite(server);
	const signup = await api(server, "POST", "/api/v1/auth/signup", {
		json: { email, password: PASSWORD, invite_code: invite },
	});
	if (signup.status !== 202) throw new Error(`signup: ${signup.status} ${JSON.stringify(signup)}`);
	const verify = await api(server, "POST", "/api/v1/auth/verify", {
		json: { email, code: await verificationCode(email) },
	});
	if (verify.status !== 200) throw new Error(`verify: ${verify.status} ${JSON.stringify(verify)}`);
	return { email, password: PASSWORD, session: verify.body as unknown as Session };
}

export async function readCredentials(home: string): Promise<Json> {
	return JSON.parse(await readFile(join(home, "credentials.json"), "utf8")) as Json;
}

export async function writeCredentials(home: string, value: Json): Promise<void> {
	await writeFile(join(home, "credentials.json"), JSON.stringify(value));
}

/** The browser's half of a sign-in: open the address, pick the account, follow the redirects. */
export async function approveInBrowser(
	authorizationUrl: string,
	who: { sub: string; email: string },
): Promise<Response> {
	const url = new URL(authorizationUrl);
	// The mock signs in whoever login_hint names (test/support/oauth-mock-setup.ts).
	url.searchParams.set("login_hint", `${who.sub}|${who.email}|1`);
	return fetch(url, { redirect: "follow" });
}

interface StripeEvent extends Json {
	id: string;
	type: string;
}

/** Stripe's side of a checkout: the customer pays; returns the events Stripe would send. */
export async function payCheckout(sessionId: string): Promise<StripeEvent[]> {
	const res = await fetch(`${inject("stripeApiBase")}/_fake/checkout/${sessionId}/complete`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ outcome: "paid" }),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`fake checkout complete: ${res.status} ${text}`);
	return (JSON.parse(text) as { events: StripeEvent[] }).events;
}

/** Delivers each event to /webhooks/stripe, signed as Stripe signs them. */
export async function deliverWebhooks(server: LicenseServer, events: StripeEvent[]): Promise<void> {
	for (const event of events) {
		const payload = JSON.stringify(event);
		const res = await fetch(`${server.url}/webhooks/stripe`, {
			method: "POST",
			headers: {
				"content-type": "application/json; charset=utf-8",
				"stripe-signature": await Stripe.webhooks.generateTestHeaderStringAsync({
					payload,
					secret: inject("stripeWebhookSecret"),
				}),
			},
			body: payload,
		});
		if (res.status !== 200) throw new Error(`${event.type}: ${res.status} ${await res.text()}`);
	}
}

/** Rows the server wrote to the audit log, read through the test SQL route. */
export async function auditCount(action: string, licenseId: string): Promise<number> {
	const res = await fetch(`${inject("oauthIssuer")}/_test/sql`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({
			text: "select count(*)::int as n from audit_logs where action = $1 and license_id = $2",
			params: [action, licenseId],
		}),
	});
	const { rows } = (await res.json()) as { rows: Array<{ n: number }> };
	return rows[0]?.n ?? 0;
}

/** A new account, logged in through the CLI in a home of its own. */
export async function loggedIn(
	server: LicenseServer,
	home: () => Promise<string>,
): Promise<Awaited<ReturnType<typeof createAccount>> & { home: string }> {
	const account = await createAccount(server);
	const h = await home();
	const r = await runCli(["login", "--email", account.email, "--password-stdin"], {
		home: h,
		apiUrl: server.url,
		stdin: `${PASSWORD}\n`,
	});
	expect(r.code, show(r)).toBe(0);
	return { ...account, home: h };
}
