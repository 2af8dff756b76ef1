import { describe, expect, it } from "vitest";
import { decodeLicenseTokenUnverified } from "../../src/kernel/token/claims";
import { sql } from "../support/database";
import { ownedLicense, sessionUser } from "../support/sessions";
import { bearer, call, hardwareId, newUser, randomEmail } from "../support/worker-client";

type Json = Record<string, unknown>;

interface OwnedLicense {
	id: string;
	plan: string;
	key_last4: string;
	activations: Array<{ id: string; hardware_id: string }>;
}

async function ownerWithLicense(fields: Json = {}) {
	const email = randomEmail("owner");
	const grant = await call<{ license: { id: string }; license_key: string }>(
		"/api/v1/admin/licenses",
		{
			json: { plan: "professional", owner_email: email, ...fields },
			admin: true,
		},
	);
	const { session } = await newUser(email);
	return {
		session,
		licenseId: grant.body.license.id,
		key: grant.body.license_key,
		auth: bearer(session.access_token),
	};
}

describe("an owner", () => {
	it("sees their licenses with activations and masked keys, in /licenses and /me", async () => {
		const { auth, licenseId, key } = await ownerWithLicense();
		const hw = hardwareId();
		await call("/api/v1/licenses/activate", { json: { license_key: key, hardware_id: hw } });

		const list = await call<{ licenses: OwnedLicense[] }>("/api/v1/licenses", { headers: auth });
		expect(list.status, list.text).toBe(200);
		expect(list.body.licenses).toHaveLength(1);
		expect(list.body.licenses[0]).toMatchObject({ id: licenseId, key_last4: key.slice(-4) });
		expect(list.body.licenses[0]?.activations.map((a) => a.hardware_id)).toEqual([hw]);
		expect(list.text).not.toContain(key);

		const me = await call<{ licenses: OwnedLicense[] }>("/api/v1/me", { headers: auth });
		expect(me.body.licenses).toEqual(list.body.licenses);
	});

	it("activates this machine without typing a key (activate-mine), idempotently", async () => {
		const { auth, licenseId } = await ownerWithLicense();
		const hw = hardwareId();
		const first = await call<{ license: { id: string }; token: string }>(
			"/api/v1/licenses/activate-mine",
			{
				json: { hardware_id: hw, hostname: "laptop" },
				headers: auth,
			},
		);
		expect(first.status, first.text).toBe(201);
		expect(first.body.license.id).toBe(licenseId);
		expect(first.body.token.split(".")).toHaveLength(3);
		const again = await call("/api/v1/licenses/activate-mine", {
			json: { hardware_id: hw },
			headers: auth,
		});
		expect(again.status, again.text).toBe(200);
	});

	it("prefers a usable license over a suspended one for activate-mine", async () => {
		const email = randomEmail("two");
		const first = await call<{ license: { id: string } }>("/api/v1/admin/licenses", {
			json: { plan: "starter", owner_email: email },
			admin: true,
		});
		const second = await call<{ license: { id: string } }>("/api/v1/admin/licenses", {
			json: { plan: "professional", owner_email: email },
			admin: true,
		});
		await call(`/api/v1/admin/licenses/${first.body.license.id}/suspend`, {
			method: "POST",
			admin: true,
		});
		const { session } = await newUser(email);
		const res = await call<{ license: { id: string } }>("/api/v1/licenses/activate-mine", {
			json: { hardware_id: hardwareId() },
			headers: bearer(session.access_token),
		});
		expect(res.status, res.text).toBe(201);
		expect(res.body.license.id).toBe(second.body.license.id);
	});

	it("gets 404 LICENSE_NOT_FOUND from activate-mine with no license", async () => {
		const { session } = await newUser();
		const res = await call<{ error: Json }>("/api/v1/licenses/activate-mine", {
			json: { hardware_id: hardwareId() },
			headers: bearer(session.access_token),
		});
		expect(res.status, res.text).toBe(404);
		expect(res.body.error.code).toBe("LICENSE_NOT_FOUND");
	});

	it("issues a new key: shown once, the old key stops working, and it is audited", async () => {
		const { auth, licenseId, key, session } = await ownerWithLicense();
		const res = await call<{ license_key: string }>(`/api/v1/licenses/${licenseId}/keys`, {
			method: "POST",
			headers: auth,
		});
		expect(res.status, res.text).toBe(201);
		expect(res.body.license_key).toMatch(/^CDT-/);
		expect(res.body.license_key).not.toBe(key);
		const hw = hardwareId();
		const old = await call("/api/v1/licenses/validate", {
			json: { license_key: key, hardware_id: hw },
		});
		expect(old.body).toMatchObject({ valid: false, code: "NOT_FOUND" });
		const fresh = await call("/api/v1/licenses/validate", {
			json: { license_key: res.body.license_key, hardware_id: hw },
		});
		expect(fresh.body).toMatchObject({ code: "NOT_ACTIVATED" });
		const audit = await sql<{ action: string }>(
			"select action from audit_logs where license_id = $1 and user_id = $2 and action = 'key_issued'",
			[licenseId, session.user.id],
		);
		expect(audit).toHaveLength(1);
		expect(JSON.stringify(audit)).not.toContain(res.body.license_key);
	});

	it("frees a seat remotely", async () => {
		const { auth, licenseId, key } = await ownerWithLicense({ max_activations: 1 });
		const act = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId("lost") },
		});
		const del = await call(`/api/v1/licenses/${licenseId}/activations/${act.body.activation.id}`, {
			method: "DELETE",
			headers: auth,
		});
		expect(del.status, del.text).toBe(204);
		const next = await call("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId("new") },
		});
		expect(next.status, next.text).toBe(201);
		const again = await call(
			`/api/v1/licenses/${licenseId}/activations/${act.body.activation.id}`,
			{
				method: "DELETE",
				headers: auth,
			},
		);
		expect(again.status).toBe(404);
	});
});

describe("another user's objects", () => {
	it("answer 404, never 403, for keys, activations and lists", async () => {
		const victim = await ownerWithLicense();
		const act = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
			json: { license_key: victim.key, hardware_id: hardwareId() },
		});
		const { session } = await newUser();
		const auth = bearer(session.access_token);

		const key = await call<{ error: Json }>(`/api/v1/licenses/${victim.licenseId}/keys`, {
			method: "POST",
			headers: auth,
		});
		expect(key.status, key.text).toBe(404);
		const del = await call(
			`/api/v1/licenses/${victim.licenseId}/activations/${act.body.activation.id}`,
			{
				method: "DELETE",
				headers: auth,
			},
		);
		expect(del.status, del.text).toBe(404);
		const unknown = await call(`/api/v1/licenses/lic_nope/keys`, { method: "POST", headers: auth });
		expect(unknown.status).toBe(404);
		expect(unknown.body).toMatchObject({ error: { code: key.body.error.code } });
		const list = await call<{ licenses: unknown[] }>("/api/v1/licenses", { headers: auth });
		expect(list.body.licenses).toEqual([]);
		// The victim's key still works.
		const still = await call("/api/v1/licenses/validate", {
			json: { license_key: victim.key, hardware_id: hardwareId() },
		});
		expect(still.body).toMatchObject({ code: "NOT_ACTIVATED" });
	});

	it("owner routes all require a valid access token", async () => {
		for (const [method, path] of [
			["GET", "/api/v1/me"],
			["GET", "/api/v1/licenses"],
			["POST", "/api/v1/licenses/lic_x/keys"],
			["DELETE", "/api/v1/licenses/lic_x/activations/act_x"],
			["POST", "/api/v1/licenses/activate-mine"],
		] as const) {
			const res = await call<{ error: Json }>(path, {
				method,
				headers: { authorization: "Bearer nope" },
			});
			expect(res.status, `${method} ${path}`).toBe(401);
			expect(res.body.error.code).toBe("UNAUTHORIZED");
		}
	});
});

describe("a fresh token for a held machine", () => {
	it("is the owner's for an activation they hold, never activates, and says why when the license is unusable", async () => {
		const owner = await sessionUser("refresher");
		const license = await ownedLicense(owner);
		const hw = hardwareId(`refresh-${owner.id}`);
		const act = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
			json: { license_key: license.key, hardware_id: hw },
		});
		expect(act.status, act.text).toBe(201);
		const path = `/api/v1/licenses/${license.id}/activations/${act.body.activation.id}/token`;
		const fresh = await call<{ valid: boolean; code: string; token: string }>(path, {
			method: "POST",
			headers: bearer(owner.accessToken),
		});
		expect(fresh.status, fresh.text).toBe(200);
		expect(fresh.body).toMatchObject({ valid: true, code: "VALID" });
		expect(decodeLicenseTokenUnverified(fresh.body.token)).toMatchObject({
			sub: license.id,
			hwid: hw,
		});
		const [count] = await sql<{ n: number }>(
			"select count(*)::int as n from activations where license_id = $1",
			[license.id],
		);
		expect(count?.n).toBe(1);
		// Another user cannot, and an id that is not theirs is a 404, not a 403.
		const stranger = await sessionUser("stranger");
		const theirs = await call(path, { method: "POST", headers: bearer(stranger.accessToken) });
		expect(theirs.status).toBe(404);
		expect(theirs.body).toMatchObject({ error: { code: "ACTIVATION_NOT_FOUND" } });
		await call(`/api/v1/admin/licenses/${license.id}/suspend`, { method: "POST", admin: true });
		const suspended = await call(path, { method: "POST", headers: bearer(owner.accessToken) });
		expect(suspended.status).toBe(200);
		expect(suspended.body).toMatchObject({ valid: false, code: "SUSPENDED", token: null });
	});
});
