/** CI lease tokens: their own typ and aud, the license token's verification discipline. */
import { createLocalJWKSet, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
	CI_LEASE_MAX_TTL_S,
	CI_TOKEN_AUDIENCE,
	CI_TOKEN_TYPE,
	type CiTokenClaims,
	ciTokenClaims,
	decodeBase64Url,
	encodeBase64Url,
	generateSigningKeyPair,
	importPublicKeySet,
	importSigningKey,
	licenseTokenClaims,
	type PublicKeySet,
	type SigningKey,
	signCiToken,
	signLicenseToken,
	verifyCiToken,
	verifyLicenseToken,
} from "../../src/kernel/index";

const ISSUER = "https://license.test";
const NOW = new Date("2026-12-01T12:00:00Z");
const at = (s: number) => new Date(NOW.getTime() + s * 1000);

let key: SigningKey;
let keys: PublicKeySet;
let jwk: Record<string, unknown>;

beforeAll(async () => {
	const pair = await generateSigningKeyPair();
	key = await importSigningKey(pair.privateJwk);
	keys = await importPublicKeySet([pair.publicJwk]);
	jwk = pair.publicJwk;
});

function claims(over: Partial<Parameters<typeof ciTokenClaims>[0]> = {}): CiTokenClaims {
	return ciTokenClaims({
		issuer: ISSUER,
		licenseId: "lic_1",
		ci: { org: "org_1", job: "build-42", lease: "cil_1" },
		lic: { plan: "team", status: "active", expires_at: null, entitlements: ["core", "team"] },
		leaseExpiresAt: at(900),
		now: NOW,
		...over,
	});
}

function tamper(
	token: string,
	edit: (header: Record<string, unknown>, payload: Record<string, unknown>) => void,
): string {
	const [h = "", p = "", s = ""] = token.split(".");
	const header = JSON.parse(new TextDecoder().decode(decodeBase64Url(h)));
	const payload = JSON.parse(new TextDecoder().decode(decodeBase64Url(p)));
	edit(header, payload);
	const enc = (v: unknown) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(v)));
	return `${enc(header)}.${enc(payload)}.${s}`;
}

describe("a CI lease token", () => {
	it("verifies with our key, carries org, job and lease, and ends with the lease", async () => {
		const token = await signCiToken(key, claims());
		const result = await verifyCiToken(token, keys, { now: at(10), issuer: ISSUER });
		expect(result).toMatchObject({
			ok: true,
			kid: key.kid,
			claims: { aud: CI_TOKEN_AUDIENCE, ci: { org: "org_1", job: "build-42", lease: "cil_1" } },
		});
		if (result.ok) expect(result.claims.exp - result.claims.iat).toBe(900);
	});

	it("is a standard JWS any JOSE library verifies from the JWKS, with its own typ", async () => {
		const token = await signCiToken(key, claims());
		const { protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: [jwk] }), {
			typ: CI_TOKEN_TYPE,
			audience: CI_TOKEN_AUDIENCE,
			issuer: ISSUER,
			currentDate: at(1),
		});
		expect(protectedHeader).toEqual({ alg: "EdDSA", typ: CI_TOKEN_TYPE, kid: key.kid });
	});

	it("is never accepted as a license token, and a license token never as a CI token", async () => {
		const ci = await signCiToken(key, claims());
		expect(await verifyLicenseToken(ci, keys, { now: at(1) })).toEqual({
			ok: false,
			reason: "UNSUPPORTED_HEADER",
		});
		const license = await signLicenseToken(
			key,
			licenseTokenClaims({
				issuer: ISSUER,
				licenseId: "lic_1",
				hardwareId: "a".repeat(64),
				lic: {
					plan: "team",
					status: "active",
					expires_at: null,
					max_activations: 3,
					entitlements: [],
				},
				licenseExpiresAt: null,
				now: NOW,
			}),
		);
		expect(await verifyCiToken(license, keys, { now: at(1) })).toEqual({
			ok: false,
			reason: "UNSUPPORTED_HEADER",
		});
		// Relabelled typ: the signature no longer matches.
		const relabelled = tamper(license, (h) => {
			h.typ = CI_TOKEN_TYPE;
		});
		expect((await verifyCiToken(relabelled, keys, { now: at(1) })).ok).toBe(false);
	});

	it("is refused once expired, from another issuer, from an unknown key, or altered", async () => {
		const token = await signCiToken(key, claims());
		expect(await verifyCiToken(token, keys, { now: at(900) })).toEqual({
			ok: false,
			reason: "EXPIRED",
		});
		expect(await verifyCiToken(token, keys, { now: at(1), issuer: "https://evil.test" })).toEqual({
			ok: false,
			reason: "WRONG_ISSUER",
		});
		const other = await importPublicKeySet([(await generateSigningKeyPair()).publicJwk]);
		expect(await verifyCiToken(token, other, { now: at(1) })).toEqual({
			ok: false,
			reason: "UNKNOWN_KEY",
		});
		const moved = tamper(token, (_, p) => {
			(p.ci as Record<string, unknown>).org = "org_2";
		});
		expect(await verifyCiToken(moved, keys, { now: at(1) })).toEqual({
			ok: false,
			reason: "BAD_SIGNATURE",
		});
		const none = tamper(token, (h) => {
			h.alg = "none";
		});
		expect(await verifyCiToken(none.replace(/\.[^.]*$/, "."), keys, { now: at(1) })).toEqual({
			ok: false,
			reason: "UNSUPPORTED_HEADER",
		});
		const jku = tamper(token, (h) => {
			h.jku = "https://evil.test/jwks";
		});
		expect(await verifyCiToken(jku, keys, { now: at(1) })).toEqual({
			ok: false,
			reason: "UNSUPPORTED_HEADER",
		});
	});

	it("cannot be made to last more than an hour, nor to end before it starts", () => {
		expect(() => claims({ leaseExpiresAt: at(CI_LEASE_MAX_TTL_S) })).not.toThrow();
		expect(() => claims({ leaseExpiresAt: at(CI_LEASE_MAX_TTL_S + 3600) })).toThrow(RangeError);
		expect(() => claims({ leaseExpiresAt: at(0) })).toThrow(RangeError);
	});
});
