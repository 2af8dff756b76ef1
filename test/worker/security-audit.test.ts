/**
 * The audit log (docs/api.md §3.7) from outside: a user's whole journey leaves one row per event,
 * each with the caller's address and user agent, none with a secret; crafted user agents are
 * stored encoded; the Worker's cron deletes rows past the retention and never a young one.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { generateLicenseKey } from "../../src/kernel/index";
import { hasControlChars } from "../../src/text";
import worker from "../../src/worker";
import { signedHeader } from "../support/billing";
import { sql } from "../support/database";
import {
	bearer,
	call,
	hardwareId,
	mintInvite,
	randomEmail,
	randomIp,
	type Session,
	verificationCode,
} from "../support/worker-client";

type AuditRow = {
	id: string;
	at: string;
	action: string;
	result: string;
	user_id: string | null;
	license_id: string | null;
	ip: string | null;
	user_agent: string | null;
	detail: Record<string, unknown> | null;
};

const rowsBy = (userAgent: string) =>
	sql<AuditRow>("select * from audit_logs where user_agent = $1 order by at, id", [userAgent]);

describe("a user's journey", () => {
	it("leaves signup, verify, failed and good login, activate, validate, deactivate and logout in the audit log, with address and user agent and no secret", async () => {
		const ip = randomIp();
		const ua = `audit-journey/${crypto.randomUUID()}`;
		const as = { ip, headers: { "user-agent": ua } };
		const email = randomEmail("journey");
		const password = "journey password 1";
		const grant = await call<{ license_key: string; license: { id: string } }>(
			"/api/v1/admin/licenses",
			{ json: { plan: "professional", owner_email: email }, admin: true },
		);
		const key = grant.body.license_key;
		const invite = await mintInvite();

		expect(
			(await call("/api/v1/auth/signup", { ...as, json: { email, password, invite_code: invite } }))
				.status,
		).toBe(202);
		const code = await verificationCode(email);
		const verified = await call<Session>("/api/v1/auth/verify", { ...as, json: { email, code } });
		expect(verified.status, verified.text).toBe(200);
		const userId = verified.body.user.id;
		const wrong = await call("/api/v1/auth/login", {
			...as,
			json: { email, password: "not the password" },
		});
		expect(wrong.status).toBe(401);
		const session = await call<Session>("/api/v1/auth/login", { ...as, json: { email, password } });
		expect(session.status, session.text).toBe(200);
		const machine = { license_key: key, hardware_id: hardwareId() };
		const activated = await call<{ token: string }>("/api/v1/licenses/activate", {
			...as,
			json: machine,
		});
		expect(activated.status, activated.text).toBe(201);
		const validated = await call<{ valid: boolean; token: string }>("/api/v1/licenses/validate", {
			...as,
			json: machine,
		});
		expect(validated.body.valid, validated.text).toBe(true);
		expect((await call("/api/v1/licenses/deactivate", { ...as, json: machine })).status).toBe(200);
		const out = await call("/api/v1/auth/logout", {
			ip,
			headers: { "user-agent": ua, ...bearer(session.body.access_token) },
			json: { refresh_token: session.body.refresh_token },
		});
		expect(out.status, out.text).toBe(204);

		const rows = await rowsBy(ua);
		expect(rows.map((r) => `${r.action}:${r.result}`)).toEqual([
			"signup:code_sent",
			"verify:success",
			"failed_login:wrong_password",
			"login:success",
			"license_activate:success",
			"license_validate:VALID",
			"license_deactivate:success",
			"logout:success",
		]);
		const licenseId = grant.body.license.id;
		for (const row of rows) {
			expect(row.ip, row.action).toBe(ip);
			expect(row.user_agent, row.action).toBe(ua);
			expect(Date.now() - new Date(row.at).getTime(), row.action).toBeLessThan(5 * 60_000);
			if (row.action.startsWith("license_")) expect(row.license_id, row.action).toBe(licenseId);
			else if (row.action !== "signup") expect(row.user_id, row.action).toBe(userId);
		}

		// No column of any row holds a secret, in any spelling.
		const secrets = {
			password,
			"wrong password": "not the password",
			"license key": key,
			"license key, canonical": key.replace(/-/g, ""),
			"license key, lower case": key.toLowerCase(),
			"verification code": code,
			invite,
			"access token": session.body.access_token,
			"refresh token": session.body.refresh_token,
			"refresh token body": session.body.refresh_token.slice(4),
			"license token": activated.body.token,
			"license token signature": activated.body.token.split(".")[2] ?? "",
		};
		for (const row of rows) {
			const { id: _id, at: _at, ...columns } = row;
			const stored = JSON.stringify(columns);
			for (const [name, value] of Object.entries(secrets)) {
				expect(stored.includes(value), `${name} in ${row.action}: ${stored}`).toBe(false);
			}
		}
	});

	it("also records refused license calls: unknown keys, repeated activations, missing activations", async () => {
		const ua = `audit-refusals/${crypto.randomUUID()}`;
		const as = { ip: randomIp(), headers: { "user-agent": ua } };
		const grant = await call<{ license_key: string }>("/api/v1/admin/licenses", {
			json: { plan: "professional" },
			admin: true,
		});
		const machine = { license_key: grant.body.license_key, hardware_id: hardwareId() };
		await call("/api/v1/licenses/activate", { ...as, json: machine });
		expect((await call("/api/v1/licenses/activate", { ...as, json: machine })).status).toBe(200);
		await call("/api/v1/licenses/deactivate", {
			...as,
			json: { ...machine, hardware_id: hardwareId() },
		});
		await call("/api/v1/licenses/activate", {
			...as,
			json: { license_key: generateLicenseKey(), hardware_id: hardwareId() },
		});
		expect((await rowsBy(ua)).map((r) => `${r.action}:${r.result}`)).toEqual([
			"license_activate:success",
			"license_activate:existing",
			"license_deactivate:ACTIVATION_NOT_FOUND",
			"license_activate:LICENSE_NOT_FOUND",
		]);
	});

	it("records Stripe deliveries and forged ones, with the sender's address", async () => {
		const ua = `audit-stripe/${crypto.randomUUID()}`;
		const payload = JSON.stringify({
			id: `evt_${crypto.randomUUID().replace(/-/g, "")}`,
			object: "event",
			type: "security_suite.audit",
			created: Math.floor(Date.now() / 1000),
			data: { object: { id: "obj_audit" } },
		});
		const headers = { "user-agent": ua, "content-type": "application/json" };
		const good = await call("/webhooks/stripe", {
			body: payload,
			headers: { ...headers, "stripe-signature": await signedHeader(payload) },
		});
		expect(good.status, good.text).toBe(200);
		const forged = await signedHeader(payload, { secret: "whsec_forged" });
		expect(
			(
				await call("/webhooks/stripe", {
					body: payload,
					headers: { ...headers, "stripe-signature": forged },
				})
			).status,
		).toBe(400);
		const rows = await rowsBy(ua);
		expect(rows.map((r) => `${r.action}:${r.result}`)).toEqual([
			"webhook_event:ignored",
			"webhook_signature_failure:denied",
		]);
		for (const row of rows) {
			expect(row.ip).toBe("203.0.113.7");
			expect(JSON.stringify(row)).not.toContain(forged.split("v1=")[1] ?? "-");
		}
	});
});

describe("a crafted user agent", () => {
	it("is stored with its control characters encoded and cut to 512 characters", async () => {
		const marker = crypto.randomUUID();
		const ua = `evil\u001b[31m\u0007${marker}\u007f${"x".repeat(600)}`;
		await call("/api/v1/licenses/validate", {
			json: { license_key: generateLicenseKey(), hardware_id: hardwareId() },
			headers: { "user-agent": ua },
		});
		await call("/api/v1/auth/login", {
			json: { email: randomEmail(), password: "some password" },
			headers: { "user-agent": ua },
			ip: randomIp(),
		});
		const rows = await sql<AuditRow>(
			"select * from audit_logs where user_agent like $1 order by at",
			[`%${marker}%`],
		);
		expect(rows.map((r) => r.action).sort()).toEqual(["failed_login", "license_validate"]);
		for (const row of rows) {
			expect(row.user_agent, row.action).toMatch(/^evil\\x1b\[31m\\x07[0-9a-f-]{36}\\x7fx+$/);
			expect(row.user_agent?.length, row.action).toBeLessThanOrEqual(512 + 3 * 3);
			expect(hasControlChars(row.user_agent ?? ""), row.action).toBe(false);
		}
	});
});

describe("retention by the Worker's cron trigger", () => {
	const ctx = () => {
		const pending: Promise<unknown>[] = [];
		const context = {
			waitUntil: (p: Promise<unknown>) => pending.push(p),
			passThroughOnException: () => {},
			props: {},
		} as unknown as ExecutionContext;
		return { context, settled: () => Promise.allSettled(pending) };
	};
	const controller = {
		cron: "17 3 * * *",
		scheduledTime: Date.now(),
		noRetry: () => {},
	} as unknown as ScheduledController;

	async function agedRows(days: number[]): Promise<Map<number, string>> {
		const ids = new Map(days.map((d) => [d, `aud_retention_${d}_${crypto.randomUUID()}`]));
		for (const [d, id] of ids) {
			await sql(
				"insert into audit_logs (id, at, action, result) values ($1, now() - make_interval(days => $2::int), 'retention_probe', 'old')",
				[id, d],
			);
		}
		return ids;
	}
	async function surviving(ids: Map<number, string>): Promise<number[]> {
		const rows = await sql<{ id: string }>("select id from audit_logs where id = any($1::text[])", [
			`{${[...ids.values()].join(",")}}`,
		]);
		const kept = new Set(rows.map((r) => r.id));
		return [...ids].filter(([, id]) => kept.has(id)).map(([d]) => d);
	}
	async function runCron(settings: Record<string, unknown>): Promise<void> {
		const { context, settled } = ctx();
		await worker.scheduled(
			controller,
			{ ...(env as unknown as Record<string, unknown>), ...settings },
			context,
		);
		await settled();
	}

	it("deletes rows older than AUDIT_RETENTION_DAYS (365 here) and keeps younger ones", async () => {
		const ids = await agedRows([400, 89, 1]);
		await runCron({});
		expect(await surviving(ids)).toEqual([89, 1]);
	});

	it("at the 90-day minimum, deletes a 91-day-old row and keeps an 89-day-old one", async () => {
		const ids = await agedRows([91, 89]);
		await runCron({ AUDIT_RETENTION_DAYS: "90" });
		expect(await surviving(ids)).toEqual([89]);
	});

	it("refuses a retention below 90 days as a misconfiguration and deletes nothing", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => {});
		const ids = await agedRows([89, 30]);
		await runCron({ AUDIT_RETENTION_DAYS: "30" });
		expect(await surviving(ids)).toEqual([89, 30]);
		expect(String(logged.mock.calls[0]?.[0])).toContain("AUDIT_RETENTION_DAYS");
		logged.mockRestore();
	});
});
