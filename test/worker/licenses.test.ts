import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { generateLicenseKey } from "../../src/kernel/index";
import { call, createLicense, hardwareId } from "../support/worker-client";

type Json = Record<string, unknown>;

describe("a license created by an operator", () => {
	it("activates, validates with a token any JOSE library verifies from the JWKS, and deactivates", async () => {
		const { key, id } = await createLicense({ plan: "professional" });
		const hw = hardwareId("laptop-1");

		const act = await call<Json>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hw, hostname: "laptop", platform: "linux" },
		});
		expect(act.status, act.text).toBe(201);
		expect(act.body).toMatchObject({
			activation: { hardware_id: hw, hostname: "laptop" },
			license: { id },
		});

		const val = await call<{ valid: boolean; code: string; token: string; license: Json }>(
			"/api/v1/licenses/validate",
			{ json: { license_key: key, hardware_id: hw } },
		);
		expect(val.status, val.text).toBe(200);
		expect(val.body.valid).toBe(true);
		expect(val.body.code).toBe("VALID");

		const jwks = await call<{ keys: Json[] }>("/.well-known/jwks.json");
		expect(jwks.body.keys.length).toBeGreaterThan(0);
		expect(jwks.body.keys[0]).toMatchObject({
			kty: "OKP",
			crv: "Ed25519",
			alg: "EdDSA",
			use: "sig",
		});
		const { payload, protectedHeader } = await jwtVerify(
			val.body.token,
			createLocalJWKSet(jwks.body as never),
			{
				algorithms: ["EdDSA"],
				audience: "coditect-cli",
				issuer: "http://license.test",
				typ: "coditect-license+jwt",
			},
		);
		expect(protectedHeader.kid).toBe(jwks.body.keys[0]?.kid);
		expect(payload).toMatchObject({
			sub: id,
			hwid: hw,
			lic: { plan: "professional", status: "active" },
		});
		expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(72 * 3600);

		const deact = await call("/api/v1/licenses/deactivate", {
			json: { license_key: key, hardware_id: hw },
		});
		expect(deact.status, deact.text).toBe(200);
		expect(deact.body).toEqual({ deactivated: true });

		const after = await call<Json>("/api/v1/licenses/validate", {
			json: { license_key: key, hardware_id: hw },
		});
		expect(after.body).toMatchObject({ valid: false, code: "NOT_ACTIVATED", token: null });
	});

	it("answers a repeated activation of the same machine with the same activation (200)", async () => {
		const { key } = await createLicense();
		const hw = hardwareId();
		const first = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hw },
		});
		const again = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hw },
		});
		expect(first.status).toBe(201);
		expect(again.status, again.text).toBe(200);
		expect(again.body.activation.id).toBe(first.body.activation.id);
	});

	it("refuses a third machine on a two-activation license with 403 ACTIVATION_LIMIT_REACHED", async () => {
		const { key } = await createLicense({ max_activations: 2 });
		for (const n of [1, 2]) {
			const ok = await call("/api/v1/licenses/activate", {
				json: { license_key: key, hardware_id: hardwareId(`m${n}`) },
			});
			expect(ok.status, ok.text).toBe(201);
		}
		const third = await call<{ error: Json }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId("m3") },
		});
		expect(third.status, third.text).toBe(403);
		expect(third.body.error).toMatchObject({
			code: "ACTIVATION_LIMIT_REACHED",
			max_activations: 2,
			active: 2,
		});
	});

	it("lets a freed seat be taken by another machine", async () => {
		const { key } = await createLicense({ max_activations: 1 });
		await call("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId("a") },
		});
		await call("/api/v1/licenses/deactivate", {
			json: { license_key: key, hardware_id: hardwareId("a") },
		});
		const b = await call("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId("b") },
		});
		expect(b.status, b.text).toBe(201);
	});

	it("never exceeds its limit when twenty machines activate at once", async () => {
		const { key } = await createLicense({ max_activations: 3 });
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				call("/api/v1/licenses/activate", {
					json: { license_key: key, hardware_id: hardwareId(`par-${i}`) },
				}),
			),
		);
		const statuses = results.map((r) => r.status);
		expect(statuses.filter((s) => s === 201).length, JSON.stringify(statuses)).toBe(3);
		// The rest are refused: over the limit (403) or over activate's 10/hour rate limit (429).
		expect(
			statuses.every((s) => s === 201 || s === 403 || s === 429),
			JSON.stringify(statuses),
		).toBe(true);
		expect(statuses.filter((s) => s === 429).length, JSON.stringify(statuses)).toBe(10);
	});
});

describe("validate", () => {
	it("answers NOT_FOUND for a well-formed key nobody holds", async () => {
		const res = await call("/api/v1/licenses/validate", {
			json: { license_key: generateLicenseKey(), hardware_id: hardwareId() },
		});
		expect(res.status, res.text).toBe(200);
		expect(res.body).toEqual({ valid: false, code: "NOT_FOUND", license: null, token: null });
	});

	it("rejects a mistyped key (bad check character) with 400 before any lookup", async () => {
		const { key } = await createLicense();
		const last = key.at(-1) === "0" ? "1" : "0";
		const res = await call<{ error: Json }>("/api/v1/licenses/validate", {
			json: { license_key: key.slice(0, -1) + last, hardware_id: hardwareId() },
		});
		expect(res.status, res.text).toBe(400);
		expect(res.body.error).toMatchObject({ code: "INVALID_REQUEST", fields: ["license_key"] });
		expect(res.text).not.toContain(key.slice(4, 12));
	});

	it("reports SUSPENDED, then VALID after reinstatement, and REVOKED for good", async () => {
		const { key, id } = await createLicense();
		const hw = hardwareId();
		await call("/api/v1/licenses/activate", { json: { license_key: key, hardware_id: hw } });
		const check = async () =>
			(
				await call<{ code: string; valid: boolean }>("/api/v1/licenses/validate", {
					json: { license_key: key, hardware_id: hw },
				})
			).body;

		expect(
			(await call(`/api/v1/admin/licenses/${id}/suspend`, { method: "POST", admin: true })).status,
		).toBe(200);
		expect(await check()).toMatchObject({ valid: false, code: "SUSPENDED" });
		const activateWhileSuspended = await call<{ error: Json }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId("other") },
		});
		expect(activateWhileSuspended.status).toBe(403);
		expect(activateWhileSuspended.body.error.code).toBe("SUSPENDED");

		expect(
			(await call(`/api/v1/admin/licenses/${id}/reinstate`, { method: "POST", admin: true }))
				.status,
		).toBe(200);
		expect(await check()).toMatchObject({ valid: true, code: "VALID" });

		expect(
			(await call(`/api/v1/admin/licenses/${id}/revoke`, { method: "POST", admin: true })).status,
		).toBe(200);
		expect(await check()).toMatchObject({ valid: false, code: "REVOKED" });
		const reinstate = await call(`/api/v1/admin/licenses/${id}/reinstate`, {
			method: "POST",
			admin: true,
		});
		expect(reinstate.status).toBe(409);
	});

	it("issues tokens that end with the license", async () => {
		const end = new Date(Date.now() + 3600_000);
		const { key } = await createLicense({ expires_at: end.toISOString() });
		const hw = hardwareId();
		const act = await call<{ token: string }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hw },
		});
		const payload = JSON.parse(
			atob(act.body.token.split(".")[1]?.replace(/-/g, "+").replace(/_/g, "/") ?? ""),
		) as { exp: number };
		expect(payload.exp).toBe(Math.floor(end.getTime() / 1000));
	});

	it("is also served at the seed's unprefixed alias", async () => {
		const { key } = await createLicense();
		const res = await call("/licenses/validate", {
			json: { license_key: key, hardware_id: hardwareId() },
		});
		expect(res.status, res.text).toBe(200);
		expect(res.body).toMatchObject({ valid: false, code: "NOT_ACTIVATED" });
	});
});

describe("rate limits", () => {
	it("answer the 61st validate of one key within a minute with 429 and an integer Retry-After", async () => {
		const { key } = await createLicense();
		const hw = hardwareId();
		for (let i = 0; i < 60; i++) {
			const ok = await call("/api/v1/licenses/validate", {
				json: { license_key: key, hardware_id: hw },
			});
			expect(ok.status, ok.text).toBe(200);
		}
		// A different spelling of the same key (lower case, no dashes) counts against the same limit.
		const respelled = key.toLowerCase().replace(/-/g, "");
		const limited = await call<{ error: Json }>("/api/v1/licenses/validate", {
			json: { license_key: respelled, hardware_id: hw },
			ip: "198.51.100.9",
		});
		expect(limited.status, limited.text).toBe(429);
		expect(limited.body.error.code).toBe("RATE_LIMITED");
		expect(limited.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
		expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
		// Another license is not affected.
		const other = await createLicense();
		expect(
			(
				await call("/api/v1/licenses/validate", {
					json: { license_key: other.key, hardware_id: hw },
				})
			).status,
		).toBe(200);
	});

	it("allow 10 activations of one key per hour", async () => {
		const { key } = await createLicense({ max_activations: 100 });
		for (let i = 0; i < 10; i++) {
			const ok = await call("/api/v1/licenses/activate", {
				json: { license_key: key, hardware_id: hardwareId(`rl-${i}`) },
			});
			expect(ok.status, ok.text).toBe(201);
		}
		const limited = await call("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId("rl-x") },
		});
		expect(limited.status, limited.text).toBe(429);
		expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(3000);
	});
});
