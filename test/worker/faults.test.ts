/**
 * The Worker entry itself, called with environments the deployment could really have:
 * a missing secret, a database that is down. Never a hang, never a detail on the wire.
 */
import { env as testEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";

const ctx = {
	waitUntil: () => {},
	passThroughOnException: () => {},
	props: {},
} as unknown as ExecutionContext;
const baseEnv = testEnv as unknown as Record<string, unknown>;

async function fetchWith(
	env: Record<string, unknown>,
	path: string,
	init?: RequestInit,
): Promise<Response> {
	return worker.fetch(new Request(`http://license.test${path}`, init), env, ctx);
}

describe("a Worker with bad settings", () => {
	it("answers 500 MISCONFIGURED without naming the setting, with the security headers", async () => {
		const { LICENSE_KEY_PEPPER: _gone, ...env } = baseEnv;
		const res = await fetchWith({ ...env }, "/healthz");
		const text = await res.text();
		expect(res.status, text).toBe(500);
		expect(JSON.parse(text).error).toMatchObject({ code: "MISCONFIGURED" });
		expect(text).not.toContain("PEPPER");
		expect(res.headers.get("x-frame-options")).toBe("DENY");
		expect(res.headers.get("strict-transport-security")).toBe(
			"max-age=31536000; includeSubDomains",
		);
	});

	it("refuses a signing key that is not an Ed25519 private JWK", async () => {
		const res = await fetchWith(
			{ ...baseEnv, LICENSE_SIGNING_KEY: '{"kty":"oct","k":"AAAA"}' },
			"/healthz",
		);
		expect(res.status).toBe(500);
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe("MISCONFIGURED");
	});
});

describe("a Worker whose database is down", () => {
	const down = { connectionString: "postgres://postgres:postgres@127.0.0.1:9/postgres" };

	it("answers 503 SERVICE_UNAVAILABLE quickly on healthz and on validate", async () => {
		const env = { ...baseEnv, HYPERDRIVE: down, HYPERDRIVE_FRESH: down };
		const started = Date.now();
		const health = await fetchWith(env, "/healthz");
		expect(health.status).toBe(503);
		const { generateLicenseKey } = await import("../../src/kernel/index");
		const validate = await fetchWith(env, "/api/v1/licenses/validate", {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ license_key: generateLicenseKey(), hardware_id: "a".repeat(64) }),
		});
		const text = await validate.text();
		expect(validate.status, text).toBe(503);
		expect(JSON.parse(text).error).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
		expect(validate.headers.get("retry-after")).toMatch(/^\d+$/);
		expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
		expect(Date.now() - started).toBeLessThan(8000);
	});
});
