/**
 * A subscription whose renewal payment failed, end to end: the fake Stripe fails the renewal,
 * its signed webhooks put the license in past_due (valid during the payment grace), and once
 * the grace has run out the CLI must say the payment failed and how to fix it, not "expired,
 * renew". The CLI runs as a real process against the real Node server.
 */
import { describe, expect, inject, it } from "vitest";
import { api, createAccount, deliverWebhooks, PASSWORD, type Session } from "./account-helpers";
import { type LicenseServer, perTest, readLicenseJson, runCli, show } from "./helpers";

const { serverWith, home } = perTest();
const DAY_S = 86_400;

type StripeEvents = Parameters<typeof deliverWebhooks>[1];

async function fake(
	path: string,
	body: Record<string, unknown>,
): Promise<{ events: StripeEvents; subscription_id?: string }> {
	const res = await fetch(`${inject("stripeApiBase")}/_fake/${path}`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`fake ${path}: ${res.status} ${text}`);
	return JSON.parse(text) as { events: StripeEvents; subscription_id?: string };
}

/** A monthly subscription paid 25 days ago, whose renewal (due in 5 days) then fails. */
async function subscriptionWithFailedRenewal(
	server: LicenseServer,
	session: Session,
	home: string,
): Promise<string> {
	const checkout = await api(server, "POST", "/api/v1/billing/checkout", {
		json: { plan: "professional", interval: "month" },
		bearer: session.access_token,
	});
	expect(checkout.status, JSON.stringify(checkout.body)).toBe(200);
	const start = Math.floor(Date.now() / 1000) - 25 * DAY_S;
	const paid = await fake(`checkout/${String(checkout.body.session_id)}/complete`, {
		outcome: "paid",
		start,
	});
	await deliverWebhooks(server, paid.events);
	const activated = await runCli(["activate", "--json"], { home, apiUrl: server.url });
	expect(activated.code, show(activated)).toBe(0);
	const renewal = await fake(`subscriptions/${String(paid.subscription_id)}/renew`, {
		paid: false,
	});
	await deliverWebhooks(server, renewal.events);
	return String((await readLicenseJson(home)).license_id);
}

/** The grace days pass (the server's clock is real; the grace end moves instead). */
async function graceRunsOut(licenseId: string): Promise<void> {
	const res = await fetch(`${inject("oauthIssuer")}/_test/sql`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({
			text: "update licenses set grace_until = now() - interval '1 hour' where id = $1 and status = 'past_due' returning id",
			params: [licenseId],
		}),
	});
	const { rows } = (await res.json()) as { rows: unknown[] };
	expect(rows, "the license is past_due").toHaveLength(1);
}

describe("a failed renewal payment", () => {
	it("holds during the grace with a warning; after it, says the payment failed and how to fix it (exit 2), never 'expired'", async () => {
		const server = await serverWith({ mail: true, billing: true });
		const { email, session } = await createAccount(server);
		const h = await home();
		const opts = { home: h, apiUrl: server.url };
		const login = await runCli(["login", "--email", email, "--password-stdin"], {
			...opts,
			stdin: `${PASSWORD}\n`,
		});
		expect(login.code, show(login)).toBe(0);
		const licenseId = await subscriptionWithFailedRenewal(server, session, h);

		const inGrace = await runCli(["license", "status", "--online", "--json"], opts);
		expect(inGrace.code, show(inGrace)).toBe(0);
		expect(inGrace.json).toMatchObject({ licensed: true, code: "PAST_DUE", status: "past_due" });

		await graceRunsOut(licenseId);

		const status = await runCli(["license", "status", "--online", "--json"], opts);
		expect(status.code, show(status)).toBe(2);
		expect(status.json).toMatchObject({ licensed: false, code: "PAST_DUE", revalidation: "done" });
		const message = String(status.json.message);
		expect(message).toMatch(/payment\b.*\bfailed/i);
		expect(message).toContain("billing portal");
		expect(message).not.toMatch(/expired|renew/i);

		const activate = await runCli(["activate", "--json"], opts);
		expect(activate.code, show(activate)).toBe(2);
		const error = activate.json.error as { code: string; message: string };
		expect(error.code).toBe("PAST_DUE");
		expect(error.message).toMatch(/payment\b.*\bfailed/i);
		expect(error.message).toContain("billing portal");
		expect(error.message).not.toMatch(/expired|renew/i);

		const human = await runCli(["license", "status"], opts);
		expect(human.code, show(human)).toBe(2);
		expect(human.stdout).toMatch(/payment\b.*\bfailed/i);
	});
});
