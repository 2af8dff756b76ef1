import { beforeAll, describe, expect, it } from "vitest";
import {
	decodeLicenseTokenUnverified,
	generateSigningKeyPair,
	importPublicKeySet,
	importSigningKey,
	isOfflineToken,
	OFFLINE_TOKEN_MAX_TTL_S,
	offlineTokenClaims,
	type PublicKeySet,
	readClaims,
	type SigningKey,
	signLicenseToken,
	verifyLicenseToken,
} from "../../src/kernel/index";

const lic = {
	plan: "enterprise",
	status: "active",
	expires_at: null,
	max_activations: 3,
	entitlements: ["air_gap"],
};
const now = new Date("2026-12-01T00:00:00Z");
const base = {
	issuer: "https://license.example",
	licenseId: "lic_1",
	hardwareId: "hw_1",
	nonce: "n0nce",
	lic,
	now,
};

let signingKey: SigningKey;
let keys: PublicKeySet;
beforeAll(async () => {
	const pair = await generateSigningKeyPair();
	signingKey = await importSigningKey(pair.privateJwk);
	keys = await importPublicKeySet([signingKey.publicJwk]);
});

describe("offline token claims", () => {
	it("a license without an end gets a year, capped", () => {
		const claims = offlineTokenClaims({ ...base, licenseExpiresAt: null });
		expect(claims.exp - claims.iat).toBe(OFFLINE_TOKEN_MAX_TTL_S);
		expect(claims.offline).toBe(true);
		expect(claims.nonce).toBe("n0nce");
		expect(isOfflineToken(claims)).toBe(true);
	});

	it("the license's own end when it comes before the year", () => {
		const end = new Date("2027-03-01T00:00:00Z");
		const claims = offlineTokenClaims({ ...base, licenseExpiresAt: end });
		expect(claims.exp).toBe(end.getTime() / 1000);
	});

	it("refuses an ended license and an empty nonce", () => {
		expect(() =>
			offlineTokenClaims({ ...base, licenseExpiresAt: new Date("2026-01-01T00:00:00Z") }),
		).toThrow(RangeError);
		expect(() => offlineTokenClaims({ ...base, nonce: "", licenseExpiresAt: null })).toThrow(
			RangeError,
		);
	});

	it("the strict reader wants offline and nonce together, offline exactly true", () => {
		const claims = offlineTokenClaims({ ...base, licenseExpiresAt: null });
		expect(readClaims(claims)).toEqual(claims);
		const { nonce: _n, ...noNonce } = claims;
		expect(readClaims(noNonce)).toBeNull();
		const { offline: _o, ...noFlag } = claims;
		expect(readClaims(noFlag)).toBeNull();
		expect(readClaims({ ...claims, offline: "true" })).toBeNull();
		expect(readClaims({ ...claims, offline: false })).toBeNull();
	});

	it("signs and verifies as a license token, and months later still verifies", async () => {
		const claims = offlineTokenClaims({ ...base, licenseExpiresAt: null });
		const token = await signLicenseToken(signingKey, claims);
		const later = new Date(now.getTime() + 200 * 24 * 3600 * 1000);
		const result = await verifyLicenseToken(token, keys, { now: later, hardwareId: "hw_1" });
		expect(result.ok).toBe(true);
		expect(decodeLicenseTokenUnverified(token)?.offline).toBe(true);
		const past = new Date((claims.exp + 1) * 1000);
		expect((await verifyLicenseToken(token, keys, { now: past })).ok).toBe(false);
	});
});
