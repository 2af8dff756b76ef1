/**
 * Input a careless or hostile client sends that the per-route checks of the route inventory
 * (security-routes.test.ts) do not cover: unknown plans, past expiries, unknown licenses. Always the documented 4xx with the error body and headers, never an echo.
 */
import { describe, expect, it } from "vitest";
import { type Answer, expectErrorBody, expectSafe } from "../support/route-checks";
import { call, createLicense, hardwareId } from "../support/worker-client";

function expectContractError(res: Answer, status: number, code: string): void {
	expectErrorBody(res, status, code);
	expectSafe(res, "/");
}

describe("operator and license input", () => {
	it("rejects an unknown plan and a past expiry on license creation", async () => {
		const unknown = await call<{ error?: Record<string, unknown> }>("/api/v1/admin/licenses", {
			json: { plan: "gold" },
			admin: true,
		});
		expectContractError(unknown, 400, "INVALID_REQUEST");
		const past = await call<{ error?: Record<string, unknown> }>("/api/v1/admin/licenses", {
			json: { plan: "starter", expires_at: "2001-01-01T00:00:00Z" },
			admin: true,
		});
		expectContractError(past, 400, "INVALID_REQUEST");
	});

	it("answers 404 for operator actions on unknown licenses and never echoes keys", async () => {
		const res = await call("/api/v1/admin/licenses/lic_doesnotexist/suspend", {
			method: "POST",
			admin: true,
		});
		expectContractError(res, 404, "LICENSE_NOT_FOUND");
		const { key } = await createLicense();
		const activate = await call("/api/v1/licenses/deactivate", {
			json: { license_key: key, hardware_id: hardwareId() },
		});
		expectContractError(activate, 404, "ACTIVATION_NOT_FOUND");
		expect(activate.text).not.toContain(key);
	});

	it("serves healthz and the JWKS with the security headers", async () => {
		const health = await call("/healthz");
		expect(health.status).toBe(200);
		expect(health.body).toEqual({ status: "ok" });
		expectSafe(health, "/healthz");
		expectSafe(await call("/.well-known/jwks.json"), "/.well-known/jwks.json");
	});
});
