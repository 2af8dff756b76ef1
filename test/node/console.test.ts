/**
 * The operator console (/admin) on the Node entry, used in headless Chromium as an operator
 * would: sign in with the ADMIN token, read the dashboard's charts, find a license, edit it and
 * see the audit row. Around that: the session cookie's flags, the CSP, no request leaving the
 * origin, CSRF and cross-site refusals, a wrong token. Screenshots go to
 * test-results/console/ (their paths are printed in the test log).
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newId } from "../../src/ids";
import { CONSOLE_CSP } from "../../src/routes/console";
import type { RunningServer } from "../../src/server";
import {
	launchChromium,
	saveScreenshot,
	type WatchedContext,
	watchedContext,
} from "../support/browser";
import { closeAgents, createLicense, hardwareId, http, nodeServer, testSql } from "./support";

let server: RunningServer;
let browser: Browser;
const sql = testSql();
const contexts: WatchedContext[] = [];
const ownerEmail = `console-${crypto.randomUUID().slice(0, 8)}@console.test`;
let license: { id: string; key: string };

beforeAll(async () => {
	server = await nodeServer();
	browser = await launchChromium();
	// Data for the charts: a license activated today, and a day's signups and checkouts. The
	// signup and checkout rows are written as their routes write them (those routes need mail
	// and Stripe, which other files test); the dashboard only reads them.
	license = await createLicense(server.url, {
		plan: "starter",
		owner_email: ownerEmail,
		max_activations: 2,
	});
	const act = await http(`${server.url}/api/v1/licenses/activate`, {
		json: { license_key: license.key, hardware_id: hardwareId("console") },
	});
	if (act.status !== 201) throw new Error(`activate failed: ${act.status} ${act.text}`);
	const session = `cs_test_${crypto.randomUUID().replace(/-/g, "")}`;
	for (const [action, result, detail] of [
		["signup", "code_sent", { address: `a-${ownerEmail}` }],
		["signup", "code_sent", { address: `b-${ownerEmail}` }],
		["checkout_started", "success", { session_id: session }],
		["checkout_completed", "success", { session_id: session }],
		["checkout_started", "success", { session_id: `${session}_open` }],
	] as const) {
		await sql`insert into audit_logs (id, action, result, detail)
			values (${newId("aud")}, ${action}, ${result}, ${sql.json(detail)})`;
	}
}, 60_000);

afterAll(async () => {
	for (const c of contexts) await c.context.close();
	await browser?.close();
	closeAgents();
	await server?.close();
	await sql.end();
});

async function signedIn(): Promise<WatchedContext> {
	const watched = await watchedContext(browser, server.url);
	contexts.push(watched);
	const { page } = watched;
	await page.goto(`${server.url}/admin`);
	await page.getByLabel("Operator token (ADMIN_TOKEN)").fill(inject("adminToken"));
	await page.getByRole("button", { name: "Sign in" }).click();
	await page.waitForURL(`${server.url}/admin/dashboard`);
	return watched;
}

describe("the console in Chromium", () => {
	it("refuses a wrong token, sets no cookie and says so", async () => {
		const watched = await watchedContext(browser, server.url);
		contexts.push(watched);
		const { page, context } = watched;
		await page.goto(`${server.url}/admin`);
		await page.getByLabel("Operator token (ADMIN_TOKEN)").fill("not-the-token-".repeat(3));
		const [answer] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith("/admin/login")),
			page.getByRole("button", { name: "Sign in" }).click(),
		]);
		expect(answer.status()).toBe(401);
		await expect(
			page.getByText("That is not this server's operator token.").isVisible(),
		).resolves.toBe(true);
		expect(await context.cookies()).toEqual([]);
		// Without a session every page sends the browser back to the sign-in page.
		await page.goto(`${server.url}/admin/licenses`);
		expect(page.url()).toBe(`${server.url}/admin`);
		await saveScreenshot(page, "console", "login-refused");
		const rows =
			await sql`select 1 from audit_logs where action = 'admin_login' and result = 'wrong_token'`;
		expect(rows.length).toBeGreaterThan(0);
	});

	it("signs in for 30 minutes with a cookie that is HttpOnly, SameSite=Strict, /admin only and not the token", async () => {
		const { context, page } = await signedIn();
		const cookies = await context.cookies();
		expect(cookies).toHaveLength(1);
		const [cookie] = cookies;
		expect(cookie).toMatchObject({
			name: "coditect_admin",
			path: "/admin",
			httpOnly: true,
			sameSite: "Strict",
			// PUBLIC_URL is http here; see the https server below for Secure.
			secure: false,
		});
		expect((cookie?.expires ?? 0) - Date.now() / 1000).toBeGreaterThan(29 * 60);
		expect((cookie?.expires ?? 0) - Date.now() / 1000).toBeLessThanOrEqual(30 * 60);
		expect(cookie?.value).not.toContain(inject("adminToken"));
		// The page cannot read it.
		expect(await page.evaluate("document.cookie")).toBe("");
	});

	it("shows the launch dashboard as charts, asking nothing of any other origin", async () => {
		const { page, outside, problems } = await signedIn();
		const res = await page.reload();
		expect(res?.headers()["content-security-policy"]).toBe(CONSOLE_CSP);
		expect(CONSOLE_CSP).toContain("default-src 'none'");
		expect(CONSOLE_CSP).toContain("style-src 'self'");
		expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
		expect(CONSOLE_CSP).not.toMatch(/script-src|unsafe|https?:|\*/);
		await expect(page.locator("script").count()).resolves.toBe(0);

		for (const id of ["chart-signups", "chart-activation", "chart-payment"]) {
			await expect(page.locator(`#${id} svg`).isVisible(), id).resolves.toBe(true);
		}
		// Thirty days, a bar each; today's bar holds at least the two signups written above.
		const bars = page.locator("#chart-signups rect.bar");
		await expect(bars.count()).resolves.toBe(30);
		expect(Number(await bars.last().getAttribute("data-value"))).toBeGreaterThanOrEqual(2);
		// Today has a license created and activated, and a checkout paid: both lines have a dot.
		const today = new Date().toISOString().slice(0, 10);
		const activation = page.locator(`#chart-activation circle[data-date="${today}"]`);
		expect(Number(await activation.getAttribute("data-value"))).toBeGreaterThan(0);
		const payment = page.locator(`#chart-payment circle[data-date="${today}"]`);
		expect(Number(await payment.getAttribute("data-value"))).toBeGreaterThan(0);
		// The stylesheet applied (system font, bars filled by class), not blocked by the CSP.
		const fill = await page.evaluate(
			'getComputedStyle(document.querySelector("#chart-signups rect.bar")).fill',
		);
		expect(fill).not.toBe("rgb(0, 0, 0)");
		await saveScreenshot(page, "console", "dashboard");
		expect(outside).toEqual([]);
		expect(problems).toEqual([]);
	});

	it("finds a license, edits it, and shows the audited change", async () => {
		const { page, outside, problems } = await signedIn();
		await page.getByRole("link", { name: "Licenses", exact: true }).click();
		await page.getByLabel("Owner email contains").fill(ownerEmail.toUpperCase());
		await page.getByLabel("Key last 4").fill(license.key.slice(-4));
		await page.getByRole("button", { name: "Search" }).click();
		const rows = page.locator("#licenses tbody tr");
		await expect(rows.count()).resolves.toBe(1);
		await saveScreenshot(page, "console", "licenses-search");

		await page.getByRole("link", { name: license.id }).click();
		await page.waitForURL(`${server.url}/admin/licenses/${license.id}`);
		await page.getByLabel("Activation limit").fill("7");
		await page.getByLabel("Plan").fill("professional");
		await page.getByRole("button", { name: "Save" }).click();
		await page.waitForURL(`${server.url}/admin/licenses/${license.id}?saved=1`);
		await expect(page.getByText("Saved.").isVisible()).resolves.toBe(true);
		const audit = page.locator('#audit tr[data-action="license_update"]');
		await expect(audit.count()).resolves.toBe(1);
		const detail = await audit.locator("td").last().textContent();
		expect(JSON.parse(detail ?? "null")).toEqual({
			changes: {
				plan: { from: "starter", to: "professional" },
				max_activations: { from: 2, to: 7 },
			},
		});
		await saveScreenshot(page, "console", "license-edited");

		const [row] = await sql<{ plan_id: string; max_activations: number }[]>`
			select plan_id, max_activations from licenses where id = ${license.id}`;
		expect(row).toEqual({ plan_id: "professional", max_activations: 7 });
		// Suspend and reinstate from the same page, each audited as the API's status change.
		const reloaded = () =>
			page.waitForResponse((r) => r.url().endsWith("?saved=1") && r.request().method() === "GET");
		await Promise.all([reloaded(), page.getByRole("button", { name: "Suspend" }).click()]);
		await page.waitForLoadState();
		await expect(page.locator("dd.status-suspended").count()).resolves.toBe(1);
		await Promise.all([reloaded(), page.getByRole("button", { name: "Reinstate" }).click()]);
		await page.waitForLoadState();
		await expect(page.locator("dd.status-active").count()).resolves.toBe(1);
		await expect(
			page.locator('#audit tr[data-action="license_status_change"]').count(),
		).resolves.toBe(2);
		// The audit page finds the same row through its filters.
		await page.goto(`${server.url}/admin/audit?action=license_update&license_id=${license.id}`);
		await expect(page.locator("#audit tbody tr").count()).resolves.toBe(1);
		expect(outside).toEqual([]);
		expect(problems).toEqual([]);
	});

	it("lists users, organisations, activations and invite batches, and makes a batch", async () => {
		const { page, outside, problems } = await signedIn();
		await page.goto(`${server.url}/admin/users?email=${encodeURIComponent(ownerEmail)}`);
		await expect(page.locator("h1").textContent()).resolves.toBe("Users");
		await page.goto(`${server.url}/admin/orgs`);
		await expect(page.locator("h1").textContent()).resolves.toBe("Organisations");
		await page.goto(`${server.url}/admin/activations?license_id=${license.id}`);
		await expect(page.locator("#activations tbody tr").count()).resolves.toBe(1);

		await page.goto(`${server.url}/admin/invites`);
		await page.getByLabel("How many").fill("3");
		await page.getByLabel("Label").fill("console batch");
		await page.getByRole("button", { name: "Create invites" }).click();
		const codes = ((await page.locator("#new-codes pre").textContent()) ?? "").split("\n");
		expect(codes).toHaveLength(3);
		await page.getByRole("link", { name: /^ivb_/ }).first().click();
		await expect(page.locator("#codes tbody tr").count()).resolves.toBe(3);
		// The batch page names codes by their last 4 only.
		const text = await page.locator("body").textContent();
		for (const code of codes) {
			expect(text).not.toContain(code);
			expect(text).toContain(code.slice(-4));
		}
		await saveScreenshot(page, "console", "invite-batch");
		expect(outside).toEqual([]);
		expect(problems).toEqual([]);
	});

	it("logs out: the cookie is cleared and pages send the browser to sign in", async () => {
		const { page, context } = await signedIn();
		await page.getByRole("button", { name: "Log out" }).click();
		await page.waitForURL(`${server.url}/admin`);
		expect(await context.cookies()).toEqual([]);
		await page.goto(`${server.url}/admin/dashboard`);
		expect(page.url()).toBe(`${server.url}/admin`);
	});
});

describe("console writes without the session's CSRF token or from elsewhere", () => {
	it("are refused with 403 and change nothing", async () => {
		const { context, page } = await signedIn();
		const target = `${server.url}/admin/licenses/${license.id}`;
		await page.goto(target);
		const csrf = await page.locator('#edit-license input[name="csrf"]').getAttribute("value");
		expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
		const [before] = await sql`select max_activations from licenses where id = ${license.id}`;

		// The browser's cookie with no token, a wrong token, and the right token from another site.
		for (const [form, headers] of [
			[{ max_activations: "1" }, {}],
			[{ max_activations: "1", csrf: "x".repeat(43) }, {}],
			[{ max_activations: "1", csrf: csrf ?? "" }, { origin: "https://evil.example" }],
			[{ max_activations: "1", csrf: csrf ?? "" }, { "sec-fetch-site": "cross-site" }],
		] as const) {
			const res = await context.request.post(target, { form, headers, maxRedirects: 0 });
			expect(res.status(), JSON.stringify(headers)).toBe(403);
		}
		// No cookie at all (a fresh context): refused too.
		const anonymous = await fetch(target, {
			method: "POST",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: `max_activations=1&csrf=${csrf}`,
			redirect: "manual",
		});
		expect(anonymous.status).toBe(403);
		const [after] = await sql`select max_activations from licenses where id = ${license.id}`;
		expect(after).toEqual(before);

		// The same request with the token from this site goes through.
		const ok = await context.request.post(target, {
			form: { max_activations: String(before?.max_activations ?? 3), csrf: csrf ?? "" },
			headers: { origin: server.url },
			maxRedirects: 0,
		});
		expect(ok.status()).toBe(303);
	});

	it("answer bad form input 4xx with a page for a person and the error body for a client", async () => {
		const { context, page } = await signedIn();
		const target = `${server.url}/admin/licenses/${license.id}`;
		await page.goto(target);
		const csrf =
			(await page.locator('#edit-license input[name="csrf"]').getAttribute("value")) ?? "";
		const forms: Array<Record<string, string>> = [
			{ max_activations: "many", csrf },
			{ max_activations: "-1", csrf },
			{ expires_at: "next tuesday", csrf },
			{ owner_email: "not an address", csrf },
			{ color: "blue", csrf },
			{ plan: "x".repeat(40), csrf },
		];
		for (const form of forms) {
			const res = await context.request.post(target, { form, maxRedirects: 0 });
			expect(res.status(), JSON.stringify(form)).toBe(400);
			expect((await res.json()).error.code).toBe("INVALID_REQUEST");
		}
		const html = await context.request.post(target, {
			form: { max_activations: "many", csrf },
			headers: { accept: "text/html" },
			maxRedirects: 0,
		});
		expect(html.status()).toBe(400);
		expect(html.headers()["content-type"]).toContain("text/html");
		expect(await html.text()).toContain("max_activations");
		const json = await context.request.post(target, {
			data: { max_activations: 2, csrf },
			maxRedirects: 0,
		});
		expect(json.status()).toBe(415);
		const missing = await context.request.post(
			`${server.url}/admin/licenses/lic_00000000000000000000`,
			{
				form: { max_activations: "2", csrf },
				maxRedirects: 0,
			},
		);
		expect(missing.status()).toBe(404);
		const search = await context.request.get(`${server.url}/admin/licenses?status=dormant`);
		expect(search.status()).toBe(400);
		const cursor = await context.request.get(`${server.url}/admin/audit?cursor=forged`);
		expect(cursor.status()).toBe(400);
		const big = await context.request.post(target, {
			form: { plan: "x".repeat(20_000), csrf },
			maxRedirects: 0,
		});
		expect(big.status()).toBe(413);
	});
});

describe("the console's cookie on an https PUBLIC_URL", () => {
	it("is Secure", async () => {
		const secure = await nodeServer({ env: { PUBLIC_URL: "https://console.test" } });
		try {
			const res = await fetch(`${secure.url}/admin/login`, {
				method: "POST",
				headers: {
					"content-type": "application/x-www-form-urlencoded",
					origin: "https://console.test",
				},
				body: new URLSearchParams({ token: inject("adminToken") }),
				redirect: "manual",
			});
			expect(res.status).toBe(303);
			const cookie = res.headers.get("set-cookie") ?? "";
			expect(cookie).toMatch(/^coditect_admin=v1\.\d+\.[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}; /);
			expect(cookie).toContain("; Path=/admin");
			expect(cookie).toContain("; Max-Age=1800");
			expect(cookie).toContain("; HttpOnly");
			expect(cookie).toContain("; SameSite=Strict");
			expect(cookie).toContain("; Secure");
		} finally {
			await secure.close();
		}
	});
});
