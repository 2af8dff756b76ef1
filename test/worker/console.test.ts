/**
 * The operator console (/admin) as the Worker serves it, on the run's database: the sign-in
 * exchange and its cookie, the pages and their CSP, an edit through the form and its audit row,
 * CSRF refusals, and the daily figures behind the charts. Chromium drives the same pages on the
 * Node entry (test/node/console.test.ts); workerd has no browser, so this file speaks HTTP.
 */
import { describe, expect, inject, it } from "vitest";
import { CONSOLE_CSP } from "../../src/routes/console";
import { sql } from "../support/database";
import {
	call,
	consoleSession,
	createLicense,
	randomEmail,
	randomIp,
} from "../support/worker-client";

const form = (fields: Record<string, string>) => ({
	method: "POST",
	body: new URLSearchParams(fields).toString(),
	headers: { "content-type": "application/x-www-form-urlencoded" },
	redirect: "manual" as const,
});

describe("POST /admin/login on the Worker", () => {
	it("sets a signed 30-minute cookie, HttpOnly, SameSite=Strict, /admin only, and audits", async () => {
		const ip = randomIp();
		const res = await call("/admin/login", { ...form({ token: inject("adminToken") }), ip });
		expect(res.status, res.text).toBe(303);
		expect(res.headers.get("location")).toBe("/admin/dashboard");
		const cookie = res.headers.get("set-cookie") ?? "";
		expect(cookie).toMatch(
			/^coditect_admin=v1\.\d+\.[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=1800; HttpOnly; SameSite=Strict/,
		);
		// PUBLIC_URL is http://license.test here: no Secure (the Node test covers https).
		expect(cookie).not.toContain("Secure");
		expect(cookie).not.toContain(inject("adminToken"));
		const rows = await sql<{ result: string }>(
			"select result from audit_logs where action = 'admin_login' and ip = $1",
			[ip],
		);
		expect(rows.map((r) => r.result)).toEqual(["success"]);
	});

	it("refuses a wrong or missing token with 401 and the sign-in page, audited, no cookie", async () => {
		const ip = randomIp();
		const attempts: Array<Record<string, string>> = [{ token: "wrong".repeat(10) }, {}];
		for (const fields of attempts) {
			const res = await call("/admin/login", { ...form(fields), ip });
			expect(res.status, res.text).toBe(401);
			expect(res.headers.get("set-cookie")).toBeNull();
			expect(res.text).toContain("not this server&#39;s operator token");
		}
		const rows = await sql(
			"select 1 from audit_logs where action = 'admin_login' and ip = $1 and result = 'wrong_token'",
			[ip],
		);
		expect(rows).toHaveLength(2);
	});

	it("refuses a post from another site, JSON, an unknown field, and more than 10 a minute", async () => {
		const ip = randomIp();
		const crossSite = await call("/admin/login", {
			...form({ token: inject("adminToken") }),
			headers: { ...form({}).headers, origin: "https://evil.example" },
			ip,
		});
		expect(crossSite.status).toBe(403);
		const json = await call("/admin/login", { json: { token: inject("adminToken") }, ip });
		expect(json.status).toBe(415);
		const unknown = await call("/admin/login", { ...form({ token: "x", is_admin: "1" }), ip });
		expect(unknown.status).toBe(400);
		let last = 0;
		for (let i = 0; i < 10; i++)
			last = (await call("/admin/login", { ...form({ token: "x" }), ip })).status;
		expect(last).toBe(429);
	});
});

describe("the console's pages on the Worker", () => {
	it("render with the console's CSP and no script, and redirect to sign-in without a session", async () => {
		const { cookie } = await consoleSession();
		for (const path of [
			"/admin/dashboard",
			"/admin/licenses",
			"/admin/users",
			"/admin/orgs",
			"/admin/activations",
			"/admin/audit",
			"/admin/invites",
		]) {
			const res = await call(path, { headers: { cookie } });
			expect(res.status, `${path} ${res.text.slice(0, 200)}`).toBe(200);
			expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
			expect(res.headers.get("cache-control")).toBe("no-store");
			expect(res.text).not.toMatch(/<script|\sstyle="|\son[a-z]+="/i);
			const anonymous = await call(path, { redirect: "manual" });
			expect(anonymous.status).toBe(303);
			expect(anonymous.headers.get("location")).toBe("/admin");
		}
		const css = await call("/admin/console.css");
		expect(css.status).toBe(200);
		expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
	});

	it("draws 30 days of charts from the daily figures", async () => {
		const { cookie } = await consoleSession();
		const res = await call("/admin/dashboard", { headers: { cookie } });
		for (const id of ["chart-signups", "chart-activation", "chart-payment"]) {
			expect(res.text).toContain(`id="${id}"`);
		}
		expect(res.text.match(/<rect class="bar"/g)).toHaveLength(30);
		const daily = await call<{ days: Array<{ date: string }> }>(
			"/api/v1/admin/metrics/daily?days=7",
			{
				admin: true,
			},
		);
		expect(daily.status, daily.text).toBe(200);
		expect(daily.body.days).toHaveLength(7);
		expect(daily.body.days.at(-1)?.date).toBe(new Date().toISOString().slice(0, 10));
		for (const q of ["days=0", "days=91", "days=x", "since=2026-01-01T00:00:00Z"]) {
			expect((await call(`/api/v1/admin/metrics/daily?${q}`, { admin: true })).status, q).toBe(400);
		}
	});

	it("edits a license through the form, audited as the API's edit is", async () => {
		const { cookie, csrf } = await consoleSession();
		const owner = randomEmail("console");
		const { id } = await createLicense({ plan: "starter", owner_email: owner, max_activations: 2 });
		const page = await call(`/admin/licenses?email=${encodeURIComponent(owner)}&status=`, {
			headers: { cookie },
		});
		expect(page.status, page.text).toBe(200);
		expect(page.text).toContain(`href="/admin/licenses/${id}"`);

		const res = await call(`/admin/licenses/${id}`, {
			...form({ csrf, plan: "starter", max_activations: "5", expires_at: "", owner_email: owner }),
			headers: { ...form({}).headers, cookie },
		});
		expect(res.status, res.text).toBe(303);
		expect(res.headers.get("location")).toBe(`/admin/licenses/${id}?saved=1`);
		const rows = await sql<{ detail: Record<string, unknown> }>(
			"select detail from audit_logs where license_id = $1 and action = 'license_update'",
			[id],
		);
		expect(rows.map((r) => r.detail)).toEqual([
			{ changes: { max_activations: { from: 2, to: 5 } } },
		]);
		const detail = await call(`/admin/licenses/${id}?saved=1`, { headers: { cookie } });
		expect(detail.text).toContain('data-action="license_update"');

		// Without the token, with another session's token, from another site: 403, nothing changes.
		const other = await consoleSession();
		for (const [fields, extra] of [
			[{ max_activations: "9" }, {}],
			[{ max_activations: "9", csrf: other.csrf }, {}],
			[{ max_activations: "9", csrf }, { "sec-fetch-site": "cross-site" }],
		] as const) {
			const refused = await call(`/admin/licenses/${id}`, {
				...form(fields),
				headers: { ...form({}).headers, cookie, ...extra },
			});
			expect(refused.status).toBe(403);
		}
		const [row] = await sql<{ max_activations: number }>(
			"select max_activations from licenses where id = $1",
			[id],
		);
		expect(row?.max_activations).toBe(5);
	});

	it("answers bad input 4xx, a page for a browser, never 5xx", async () => {
		const { cookie, csrf } = await consoleSession();
		const { id } = await createLicense();
		const html = { cookie, accept: "text/html" };
		const search = await call("/admin/licenses?key_last4=toolong", { headers: html });
		expect(search.status).toBe(400);
		expect(search.headers.get("content-type")).toContain("text/html");
		expect(search.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
		expect(search.text).toContain("key_last4");
		for (const path of [
			"/admin/licenses/lic_00000000000000000000",
			"/admin/licenses/nope",
			"/admin/invites/ivb_00000000000000000000",
		]) {
			expect((await call(path, { headers: { cookie } })).status, path).toBe(404);
		}
		const bad: Array<Record<string, string>> = [
			{ count: "0" },
			{ count: "many" },
			{ count: "3", label: "x".repeat(101) },
			{ count: "1", extra: "1" },
		];
		for (const fields of bad) {
			const res = await call("/admin/invites", {
				...form({ ...fields, csrf }),
				headers: { ...form({}).headers, cookie },
			});
			expect(res.status, JSON.stringify(fields)).toBe(400);
		}
		const repeated = await call(`/admin/licenses/${id}`, {
			method: "POST",
			body: `csrf=${csrf}&plan=starter&plan=professional`,
			headers: { ...form({}).headers, cookie },
			redirect: "manual",
		});
		expect(repeated.status).toBe(400);
		const conflict = await call(`/admin/licenses/${id}`, {
			...form({ csrf, plan: "no-such-plan" }),
			headers: { ...form({}).headers, cookie },
		});
		expect(conflict.status).toBeGreaterThanOrEqual(400);
		expect(conflict.status).toBeLessThan(500);
	});
});
