/**
 * validate answers from evaluateLicense and audits from its SQL mirror in the same statement;
 * over random license states both must say the same thing, and match the rules as written.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateLicense, type LicenseState } from "../../src/kernel/rules";
import { testSql } from "../support/db";
import { call, createLicense, hardwareId } from "../support/worker-client";

const HOUR = 3600_000;
const offset = fc.constantFrom<number | null>(null, -2 * HOUR, 2 * HOUR);
const state = fc.record({
	status: fc.constantFrom<LicenseState["status"]>(
		"active",
		"past_due",
		"suspended",
		"expired",
		"revoked",
	),
	expires: offset,
	grace: offset,
	activated: fc.boolean(),
});

describe("validate's verdict", () => {
	it("matches evaluateLicense and is what the audit log records, for any license state", async () => {
		await fc.assert(
			fc.asyncProperty(state, async (s) => {
				const { key, id } = await createLicense({ max_activations: 5 });
				const hw = hardwareId();
				if (s.activated) {
					const act = await call("/api/v1/licenses/activate", {
						json: { license_key: key, hardware_id: hw },
					});
					expect(act.status, act.text).toBe(201);
				}
				const now = Date.now();
				const at = (o: number | null) => (o === null ? null : new Date(now + o));
				const sql = testSql();
				await sql`update licenses set status = ${s.status}, expires_at = ${at(s.expires)}, grace_until = ${at(s.grace)} where id = ${id}`;

				const res = await call<{ valid: boolean; code: string; token: string | null }>(
					"/api/v1/licenses/validate",
					{
						json: { license_key: key, hardware_id: hw },
					},
				);
				expect(res.status, res.text).toBe(200);
				const rule = evaluateLicense(
					{ status: s.status, expiresAt: at(s.expires), graceUntil: at(s.grace) },
					new Date(),
				);
				const expected = rule.usable && !s.activated ? "NOT_ACTIVATED" : rule.code;
				expect(res.body.code, JSON.stringify(s)).toBe(expected);
				expect(res.body.valid).toBe(rule.usable && s.activated);
				expect(res.body.token === null).toBe(!res.body.valid);

				const [audit] = await sql<{ result: string }[]>`
					select result from audit_logs where license_id = ${id} and action = 'license_validate'
					order by at desc limit 1`;
				expect(audit?.result, JSON.stringify(s)).toBe(res.body.code);
			}),
			{ numRuns: 40 },
		);
	});

	it("records NOT_FOUND in the audit log with the caller's address and user agent", async () => {
		const { generateLicenseKey } = await import("../../src/kernel/index");
		const ua = `probe-${crypto.randomUUID()}\u001b[31m`;
		const res = await call("/api/v1/licenses/validate", {
			json: { license_key: generateLicenseKey(), hardware_id: hardwareId() },
			headers: { "user-agent": ua },
			ip: "192.0.2.44",
		});
		expect(res.body).toMatchObject({ code: "NOT_FOUND" });
		const sql = testSql();
		const [row] = await sql<
			{ result: string; ip: string; user_agent: string; license_id: string | null }[]
		>`
			select result, ip, user_agent, license_id from audit_logs where user_agent like ${`probe-${ua.slice(6, 42)}%`}`;
		expect(row).toMatchObject({ result: "NOT_FOUND", ip: "192.0.2.44", license_id: null });
		// Control characters are encoded, not stored raw.
		expect(row?.user_agent).toBe(ua.replace("\u001b", "\\x1b"));
	});
});
