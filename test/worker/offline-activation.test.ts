/**
 * Air-gapped activation in workerd against real Postgres (docs/offline-activation.md): request
 * files uploaded by the owner, an org admin or the operator; limits, idempotency, the offline
 * token's claims; release receipts that free the seat once; foreign licenses and bad files.
 */
import { describe, expect, it } from "vitest";
import { newId } from "../../src/ids";
import { decodeLicenseTokenUnverified } from "../../src/kernel/token/claims";
import { sql } from "../support/database";
import { type Machine, newMachine, releaseFile, requestFile } from "../support/offline-files";
import { expectErrorBody } from "../support/route-checks";
import { ownedLicense, type SessionUser, sessionUser } from "../support/sessions";
import { bearer, call, hardwareId } from "../support/worker-client";

interface LicenseFile {
	format: string;
	version: number;
	created: boolean;
	activation: { id: string; hardware_id: string; offline: boolean };
	license: { id: string };
	token: string;
}

const YEAR_S = 365 * 24 * 3600;

function upload(licenseId: string, file: unknown, as: SessionUser | "operator") {
	const path =
		as === "operator"
			? `/api/v1/admin/licenses/${licenseId}/offline-activations`
			: `/api/v1/licenses/${licenseId}/offline-activations`;
	return call<LicenseFile>(path, {
		json: file,
		...(as === "operator" ? { admin: true } : { headers: bearer(as.accessToken) }),
	});
}

function release(licenseId: string, file: unknown, as: SessionUser | "operator") {
	const path =
		as === "operator"
			? `/api/v1/admin/licenses/${licenseId}/offline-deactivations`
			: `/api/v1/licenses/${licenseId}/offline-deactivations`;
	return call(path, {
		json: file,
		...(as === "operator" ? { admin: true } : { headers: bearer(as.accessToken) }),
	});
}

async function licenseOf(owner: SessionUser, fields: Record<string, unknown> = {}) {
	const res = await call<{ license: { id: string } }>("/api/v1/admin/licenses", {
		json: { plan: "professional", owner_email: owner.email, ...fields },
		admin: true,
	});
	expect(res.status, res.text).toBe(201);
	return res.body.license.id;
}

async function machine(label?: string): Promise<Machine> {
	return newMachine(hardwareId(label));
}

describe("uploading a request file", () => {
	it("activates the machine offline: a license file with an offline token bound to the nonce", async () => {
		const owner = await sessionUser("offline-owner");
		const { id } = await ownedLicense(owner);
		const m = await machine();
		const request = requestFile(m, id);
		const res = await upload(id, request, owner);
		expect(res.status, res.text).toBe(201);
		expect(res.body).toMatchObject({
			format: "coditect-offline-license",
			version: 1,
			created: true,
			activation: { hardware_id: m.hardwareId, offline: true, hostname: "airgap-1" },
			license: { id },
		});
		const claims = decodeLicenseTokenUnverified(res.body.token);
		expect(claims).toMatchObject({
			sub: id,
			hwid: m.hardwareId,
			offline: true,
			nonce: request.nonce,
		});
		// No end date: capped at a year.
		expect((claims?.exp ?? 0) - (claims?.iat ?? 0)).toBe(YEAR_S);

		// It shows among the owner's machines, marked offline.
		const list = await call<{ licenses: Array<{ activations: Array<{ offline: boolean }> }> }>(
			"/api/v1/licenses",
			{ headers: bearer(owner.accessToken) },
		);
		expect(list.body.licenses[0]?.activations).toEqual([
			expect.objectContaining({ offline: true }),
		]);
	});

	it("ends the token with the license when the license ends within a year", async () => {
		const owner = await sessionUser();
		const end = new Date(Date.now() + 30 * 24 * 3600 * 1000);
		const id = await licenseOf(owner, { expires_at: end.toISOString() });
		const res = await upload(id, requestFile(await machine(), id), owner);
		expect(res.status, res.text).toBe(201);
		expect(decodeLicenseTokenUnverified(res.body.token)?.exp).toBe(
			Math.floor(end.getTime() / 1000),
		);
	});

	it("is idempotent: the same file again answers 200 for the same seat", async () => {
		const owner = await sessionUser();
		const { id } = await ownedLicense(owner);
		const m = await machine();
		const request = requestFile(m, id);
		const first = await upload(id, request, owner);
		const again = await upload(id, request, owner);
		expect(again.status, again.text).toBe(200);
		expect(again.body.created).toBe(false);
		expect(again.body.activation.id).toBe(first.body.activation.id);
		const rows = await sql<{ n: number }>(
			"select count(*)::int as n from activations where license_id = $1 and deactivated_at is null",
			[id],
		);
		expect(rows[0]?.n).toBe(1);
	});

	it("counts against the activation limit like any activation", async () => {
		const owner = await sessionUser();
		const id = await licenseOf(owner, { max_activations: 1 });
		const ok = await upload(id, requestFile(await machine(), id), owner);
		expect(ok.status, ok.text).toBe(201);
		const full = await upload(id, requestFile(await machine(), id), owner);
		expectErrorBody(full, 403, "ACTIVATION_LIMIT_REACHED");
		expect(full.body).toMatchObject({ error: { max_activations: 1, active: 1 } });
	});

	it("refuses a suspended license with its validation code", async () => {
		const owner = await sessionUser();
		const { id } = await ownedLicense(owner);
		await call(`/api/v1/admin/licenses/${id}/suspend`, { json: {}, admin: true });
		expectErrorBody(await upload(id, requestFile(await machine(), id), owner), 403, "SUSPENDED");
	});

	it("answers 404 for another user's license and for a plain org member, but serves an org admin", async () => {
		const owner = await sessionUser("org-owner");
		const org = await call<{ id: string }>("/api/v1/orgs", {
			json: { name: "Airgap Inc" },
			headers: bearer(owner.accessToken),
		});
		expect(org.status, org.text).toBe(201);
		const id = await licenseOf(owner, { plan: "team", org_id: org.body.id, seats: 5 });
		const [admin, member, stranger] = [
			await sessionUser("org-admin"),
			await sessionUser("org-member"),
			await sessionUser("stranger"),
		];
		for (const [user, role] of [
			[admin, "admin"],
			[member, "member"],
		] as const) {
			await sql("insert into org_members (id, org_id, user_id, role) values ($1, $2, $3, $4)", [
				newId("seat"),
				org.body.id,
				user.id,
				role,
			]);
		}
		expectErrorBody(
			await upload(id, requestFile(await machine(), id), stranger),
			404,
			"LICENSE_NOT_FOUND",
		);
		expectErrorBody(
			await upload(id, requestFile(await machine(), id), member),
			404,
			"LICENSE_NOT_FOUND",
		);
		const adminMachine = await machine();
		const byAdmin = await upload(id, requestFile(adminMachine, id), admin);
		expect(byAdmin.status, byAdmin.text).toBe(201);
		// An offline machine is the org's, not a seat's: no seat claims in its token.
		expect(decodeLicenseTokenUnverified(byAdmin.body.token)?.seat).toBeUndefined();
		// Nor may a stranger release it, even with a receipt the machine really signed.
		expectErrorBody(
			await release(id, await validRelease(byAdmin.body, id, adminMachine), stranger),
			404,
			"ACTIVATION_NOT_FOUND",
		);
	});

	it("refuses bad files with 400 and names the field", async () => {
		const owner = await sessionUser();
		const { id } = await ownedLicense(owner);
		const m = await machine();
		const cases: Array<[string, unknown]> = [
			["wrong format", requestFile(m, id, { format: "something-else" })],
			["wrong version", requestFile(m, id, { version: 2 })],
			["unknown field", requestFile(m, id, { license_key: "CDT-X" })],
			["missing nonce", { ...requestFile(m, id), nonce: undefined }],
			["short nonce", requestFile(m, id, { nonce: "abc" })],
			[
				"bad machine key",
				requestFile(m, id, { machine_key: { kty: "OKP", crv: "X25519", x: m.x } }),
			],
			["bad hardware id", requestFile(m, id, { hardware_id: "has spaces" })],
			["over-long hostname", requestFile(m, id, { hostname: "h".repeat(256) })],
			["not an object", ["a"]],
		];
		for (const [label, file] of cases) {
			const res = await upload(id, file, owner);
			expect(res.status, `${label}: ${res.text}`).toBe(400);
			expectErrorBody(res, 400, "INVALID_REQUEST");
		}
		const other = await ownedLicense(owner);
		const mismatch = await upload(other.id, requestFile(m, id), owner);
		expectErrorBody(mismatch, 400, "INVALID_REQUEST");
		expect(mismatch.body).toMatchObject({ error: { fields: ["license_id"] } });

		const malformed = await call(`/api/v1/licenses/${id}/offline-activations`, {
			body: "{not json",
			headers: { ...bearer(owner.accessToken), "content-type": "application/json" },
		});
		expectErrorBody(malformed, 400, "INVALID_REQUEST");
		const text = await call(`/api/v1/licenses/${id}/offline-activations`, {
			body: JSON.stringify(requestFile(m, id)),
			headers: { ...bearer(owner.accessToken), "content-type": "text/plain" },
		});
		expectErrorBody(text, 415, "UNSUPPORTED_MEDIA_TYPE");
		const anonymous = await call(`/api/v1/licenses/${id}/offline-activations`, {
			json: requestFile(m, id),
		});
		expectErrorBody(anonymous, 401);
	});

	it("lets the operator upload for any license, audited", async () => {
		const owner = await sessionUser();
		const { id } = await ownedLicense(owner);
		const m = await machine();
		const res = await upload(id, requestFile(m, id), "operator");
		expect(res.status, res.text).toBe(201);
		const freed = await release(id, await validRelease(res.body, id, m), "operator");
		expect(freed.status, freed.text).toBe(200);
		const audit = await sql<{ action: string; result: string; detail: Record<string, unknown> }>(
			"select action, result, detail from audit_logs where license_id = $1 and action in ('license_activate', 'license_deactivate') order by at, id",
			[id],
		);
		expect(audit).toEqual([
			expect.objectContaining({
				action: "license_activate",
				result: "success",
				detail: expect.objectContaining({ offline: true, by: "operator" }),
			}),
			expect.objectContaining({
				action: "license_deactivate",
				result: "success",
				detail: expect.objectContaining({ offline: true, by: "operator" }),
			}),
		]);
		expectErrorBody(
			await upload("lic_nope", requestFile(m, "lic_nope"), "operator"),
			404,
			"LICENSE_NOT_FOUND",
		);
		const noToken = await call(`/api/v1/admin/licenses/${id}/offline-activations`, {
			json: requestFile(m, id),
		});
		expectErrorBody(noToken, 401);
	});
});

/** A receipt for the machine behind `file`, signed by that machine. */
async function validRelease(file: LicenseFile, licenseId: string, m: Machine) {
	const nonce = String(decodeLicenseTokenUnverified(file.token)?.nonce);
	return releaseFile(m, licenseId, file.activation.id, nonce);
}

describe("uploading a release receipt", () => {
	async function activatedOffline(max = 1) {
		const owner = await sessionUser();
		const id = await licenseOf(owner, { max_activations: max });
		const m = await machine();
		const res = await upload(id, requestFile(m, id), owner);
		expect(res.status, res.text).toBe(201);
		return { owner, id, m, file: res.body };
	}

	it("frees the seat once; the same receipt again is a 409", async () => {
		const { owner, id, m, file } = await activatedOffline();
		const receipt = await validRelease(file, id, m);
		const res = await release(id, receipt, owner);
		expect(res.status, res.text).toBe(200);
		expect(res.body).toEqual({ deactivated: true, activation_id: file.activation.id });
		// The seat is free: another machine fits the limit of 1 now.
		const next = await upload(id, requestFile(await machine(), id), owner);
		expect(next.status, next.text).toBe(201);
		expectErrorBody(await release(id, receipt, owner), 409, "CONFLICT");
	});

	it("refuses a receipt for an earlier request once the machine sent a newer one (409)", async () => {
		const { owner, id, m, file } = await activatedOffline();
		const old = await validRelease(file, id, m);
		const newer = await upload(id, requestFile(m, id), owner);
		expect(newer.status, newer.text).toBe(200);
		expect(newer.body.activation.id).toBe(file.activation.id);
		expectErrorBody(await release(id, old, owner), 409, "CONFLICT");
		const current = await release(id, await validRelease(newer.body, id, m), owner);
		expect(current.status, current.text).toBe(200);
	});

	it("refuses a receipt signed by another key, or naming another machine (400), and audits it", async () => {
		const { owner, id, m, file } = await activatedOffline();
		const nonce = String(decodeLicenseTokenUnverified(file.token)?.nonce);
		const impostor = { ...(await machine()), hardwareId: m.hardwareId };
		const forged = await releaseFile(impostor, id, file.activation.id, nonce);
		const res = await release(id, forged, owner);
		expectErrorBody(res, 400, "INVALID_REQUEST");
		expect(res.body).toMatchObject({ error: { fields: ["receipt"] } });
		const otherHw = await releaseFile(m, id, file.activation.id, nonce, { hwid: "elsewhere" });
		expectErrorBody(await release(id, otherHw, owner), 400, "INVALID_REQUEST");
		const tampered = await validRelease(file, id, m);
		const parts = String(tampered.receipt).split(".");
		const bad = { ...tampered, receipt: `${parts[0]}.${parts[1]}.${"A".repeat(86)}` };
		expectErrorBody(await release(id, bad, owner), 400, "INVALID_REQUEST");
		const audit = await sql<{ n: number }>(
			"select count(*)::int as n from audit_logs where license_id = $1 and action = 'license_deactivate' and result = 'BAD_RECEIPT'",
			[id],
		);
		expect(audit[0]?.n).toBe(3);
		// The seat is still held.
		const held = await release(id, await validRelease(file, id, m), owner);
		expect(held.status, held.text).toBe(200);
	});

	it("refuses a receipt for an online activation (400), an unknown one (404), bad shapes (400)", async () => {
		const owner = await sessionUser();
		const { id, key } = await ownedLicense(owner);
		const m = await machine();
		const online = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: m.hardwareId },
		});
		expect(online.status, online.text).toBe(201);
		const receipt = await releaseFile(m, id, online.body.activation.id, "n".repeat(43));
		const res = await release(id, receipt, owner);
		expectErrorBody(res, 400, "INVALID_REQUEST");
		expect(res.body).toMatchObject({ error: { fields: ["activation_id"] } });
		expectErrorBody(
			await release(id, await releaseFile(m, id, "act_nope", "n".repeat(43)), owner),
			404,
			"ACTIVATION_NOT_FOUND",
		);
		for (const bad of [
			{ ...receipt, receipt: "not-a-jws" },
			{ ...receipt, format: "coditect-offline-request" },
			{ ...receipt, extra: true },
			{ ...receipt, receipt: `${"a".repeat(2049)}.b.c` },
		]) {
			expectErrorBody(await release(id, bad, owner), 400, "INVALID_REQUEST");
		}
		expectErrorBody(
			await release(id, { ...receipt, license_id: "lic_other" }, owner),
			400,
			"INVALID_REQUEST",
		);
	});
});
