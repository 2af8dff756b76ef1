/**
 * The release receipt (src/kernel/token/release.ts, docs/offline-activation.md §7): signed by
 * an air-gapped machine's own key, verified with the same JWS steps as license tokens, with
 * its own pinned `typ` so no other token passes as a receipt.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
	encodeBase64Url,
	encodeUtf8,
	generateSigningKeyPair,
	importEd25519PublicKey,
	importSigningKey,
	jwkThumbprint,
	LICENSE_TOKEN_TYPE,
	licenseTokenClaims,
	RELEASE_RECEIPT_TYPE,
	readKeyBytes,
	readReleaseClaims,
	releaseSigningInput,
	type SigningKey,
	signLicenseToken,
	verifySignedPayload,
	webCryptoVerifier,
} from "../../src/kernel/index";

const claims = { sub: "lic_1", act: "act_1", hwid: "hw_1", nonce: "n0nce", iat: 1_800_000_000 };

let machine: SigningKey;
let keys: Map<string, CryptoKey>;
beforeAll(async () => {
	// Any Ed25519 pair will do as a machine key; the server's generator makes one.
	const pair = await generateSigningKeyPair();
	machine = await importSigningKey(pair.privateJwk);
	const x = readKeyBytes(machine.publicJwk.x);
	if (x === null) throw new Error("no x");
	keys = new Map([[machine.kid, await importEd25519PublicKey(x)]]);
});

async function signedReceipt(over: Record<string, unknown> = {}, typ = RELEASE_RECEIPT_TYPE) {
	const header = encodeBase64Url(
		encodeUtf8(JSON.stringify({ alg: "EdDSA", typ, kid: machine.kid })),
	);
	const payload = encodeBase64Url(encodeUtf8(JSON.stringify({ ...claims, ...over })));
	const input = `${header}.${payload}`;
	return `${input}.${encodeBase64Url(await machine.sign(encodeUtf8(input)))}`;
}

describe("release receipts", () => {
	it("verify with the machine key and read back the claims", async () => {
		const kid = await jwkThumbprint({ crv: "Ed25519", kty: "OKP", x: machine.publicJwk.x });
		const input = releaseSigningInput(kid, claims);
		const receipt = `${input}.${encodeBase64Url(await machine.sign(encodeUtf8(input)))}`;
		const signed = await verifySignedPayload(
			receipt,
			RELEASE_RECEIPT_TYPE,
			keys,
			webCryptoVerifier,
		);
		expect(signed.ok).toBe(true);
		if (signed.ok) expect(readReleaseClaims(signed.payload)).toEqual(claims);
	});

	it("are refused under another typ, and a license token is not a receipt", async () => {
		const wrongTyp = await signedReceipt({}, LICENSE_TOKEN_TYPE);
		expect(
			await verifySignedPayload(wrongTyp, RELEASE_RECEIPT_TYPE, keys, webCryptoVerifier),
		).toEqual({ ok: false, reason: "UNSUPPORTED_HEADER" });
		const token = await signLicenseToken(
			machine,
			licenseTokenClaims({
				issuer: "https://license.example",
				licenseId: "lic_1",
				hardwareId: "hw_1",
				lic: {
					plan: "p",
					status: "active",
					expires_at: null,
					max_activations: 1,
					entitlements: [],
				},
				licenseExpiresAt: null,
			}),
		);
		expect(await verifySignedPayload(token, RELEASE_RECEIPT_TYPE, keys, webCryptoVerifier)).toEqual(
			{ ok: false, reason: "UNSUPPORTED_HEADER" },
		);
	});

	it("read only the known shape", () => {
		expect(readReleaseClaims({ ...claims, extra: 1 })).toEqual(claims);
		for (const bad of [
			{ ...claims, sub: "" },
			{ ...claims, act: 7 },
			{ ...claims, nonce: "n".repeat(129) },
			{ ...claims, iat: -1 },
			{ ...claims, iat: 1.5 },
			{ sub: "lic_1" },
			null,
			[],
		]) {
			expect(readReleaseClaims(bad), JSON.stringify(bad)).toBeNull();
		}
		expect(() => releaseSigningInput("kid", { ...claims, hwid: "" })).toThrow(TypeError);
	});
});
