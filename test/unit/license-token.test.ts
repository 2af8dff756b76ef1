import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as ed from "@noble/ed25519";
import fc from "fast-check";
import { createLocalJWKSet, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { PUBLIC_KEYS } from "../../keys/index";
import {
	decodeBase64Url,
	decodeLicenseTokenUnverified,
	encodeBase64Url,
	generateSigningKeyPair,
	importPublicKeySet,
	importSigningKey,
	jwkThumbprint,
	LICENSE_TOKEN_AUDIENCE,
	LICENSE_TOKEN_TTL_S,
	LICENSE_TOKEN_TYPE,
	type LicenseTokenClaims,
	licenseTokenClaims,
	MAX_CLOCK_SKEW_S,
	type PublicKeySet,
	type SigningKey,
	signLicenseToken,
	verifyLicenseToken,
} from "../../src/kernel/index";
import vector from "../vectors/license-token.json";

const VERIFY_AT = new Date(vector.verify_at);
const HARDWARE_ID = vector.hardware_id;
const ISSUER = vector.claims.iss;
const TEST_SEED = decodeBase64Url(vector.test_only_private_jwk.d);
const TEST_PUBLIC_KEY = decodeBase64Url(vector.public_jwk.x);

let signingKey: SigningKey;
let keys: PublicKeySet;

beforeAll(async () => {
	signingKey = await importSigningKey(JSON.stringify(vector.test_only_private_jwk));
	keys = await importPublicKeySet([signingKey.publicJwk]);
});

function segment(value: unknown): string {
	return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));
}

/** Signs any header and payload with the test key through @noble/ed25519, bypassing our checks. */
async function forge(header: unknown, payload: unknown, seed = TEST_SEED): Promise<string> {
	const signingInput = `${segment(header)}.${segment(payload)}`;
	const signature = await ed.signAsync(new TextEncoder().encode(signingInput), seed);
	return `${signingInput}.${encodeBase64Url(signature)}`;
}

function ourHeader(): Record<string, unknown> {
	return { alg: "EdDSA", typ: LICENSE_TOKEN_TYPE, kid: vector.public_jwk.kid };
}

function claimsAt(now: Date, change: Partial<LicenseTokenClaims> = {}): LicenseTokenClaims {
	const iat = Math.floor(now.getTime() / 1000);
	return { ...vector.claims, iat, nbf: iat, exp: iat + LICENSE_TOKEN_TTL_S, ...change };
}

async function verifyAtVectorTime(token: string) {
	return verifyLicenseToken(token, keys, {
		now: VERIFY_AT,
		hardwareId: HARDWARE_ID,
		issuer: ISSUER,
	});
}

function flipBit(token: string, index: number, bit: number): string {
	const flipped = String.fromCharCode(token.charCodeAt(index) ^ (1 << bit));
	return token.slice(0, index) + flipped + token.slice(index + 1);
}

describe("the golden vector", () => {
	it("is reproduced byte for byte by signLicenseToken", async () => {
		expect(await signLicenseToken(signingKey, vector.claims)).toBe(vector.token);
	});

	it("has exactly the header {alg, typ, kid} and the claims in a fixed order", () => {
		const [header = "", payload = ""] = vector.token.split(".");
		expect(new TextDecoder().decode(decodeBase64Url(header))).toBe(vector.header_json);
		expect(new TextDecoder().decode(decodeBase64Url(payload))).toBe(vector.payload_json);
	});

	it("names its key by the RFC 7638 thumbprint given in RFC 8037 §A.3 for this key", async () => {
		expect(await jwkThumbprint(vector.public_jwk)).toBe(
			"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
		);
		expect(signingKey.kid).toBe(vector.public_jwk.kid);
		expect(signingKey.publicJwk).toEqual(vector.public_jwk);
	});

	it("comes from a WebCrypto Ed25519 that reproduces RFC 8037 §A.4 with this key", async () => {
		const signingInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
		const key = await crypto.subtle.importKey(
			"jwk",
			{ kty: "OKP", crv: "Ed25519", x: vector.public_jwk.x, d: vector.test_only_private_jwk.d },
			"Ed25519",
			false,
			["sign"],
		);
		const signature = await crypto.subtle.sign(
			"Ed25519",
			key,
			new TextEncoder().encode(signingInput),
		);
		expect(encodeBase64Url(new Uint8Array(signature))).toBe(
			"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
		);
	});

	it("is verified independently by @noble/ed25519", async () => {
		const [header, payload, signature = ""] = vector.token.split(".");
		const message = new TextEncoder().encode(`${header}.${payload}`);
		expect(await ed.verifyAsync(decodeBase64Url(signature), message, TEST_PUBLIC_KEY)).toBe(true);
		expect(encodeBase64Url(await ed.signAsync(message, TEST_SEED))).toBe(signature);
	});

	it("is verified by jose from the public JWKS alone, with alg, typ, aud and iss pinned", async () => {
		const jwks = createLocalJWKSet({ keys: [vector.public_jwk] });
		const { payload, protectedHeader } = await jwtVerify(vector.token, jwks, {
			algorithms: ["EdDSA"],
			typ: LICENSE_TOKEN_TYPE,
			audience: LICENSE_TOKEN_AUDIENCE,
			issuer: ISSUER,
			currentDate: VERIFY_AT,
		});
		expect(protectedHeader).toEqual(JSON.parse(vector.header_json));
		expect(payload).toEqual(vector.claims);
	});

	it("is accepted by verifyLicenseToken, which returns its claims and kid", async () => {
		expect(await verifyAtVectorTime(vector.token)).toEqual({
			ok: true,
			claims: vector.claims,
			kid: vector.public_jwk.kid,
		});
	});

	it("can be read unverified for display, and that copy is only the claims", () => {
		expect(decodeLicenseTokenUnverified(vector.token)).toEqual(vector.claims);
		expect(decodeLicenseTokenUnverified("not a token")).toBeNull();
	});
});

describe("licenseTokenClaims", () => {
	const now = new Date("2026-03-01T12:00:00.750Z");
	const base = {
		issuer: ISSUER,
		licenseId: "lic_123",
		hardwareId: HARDWARE_ID,
		lic: vector.claims.lic,
	};

	it("issues a token valid from now for 72 hours when the license has no end", () => {
		const claims = licenseTokenClaims({ ...base, licenseExpiresAt: null, now });
		expect(claims).toMatchObject({
			iss: ISSUER,
			aud: LICENSE_TOKEN_AUDIENCE,
			sub: "lic_123",
			hwid: HARDWARE_ID,
			iat: 1772366400,
			nbf: 1772366400,
			exp: 1772366400 + 72 * 3600,
			lic: vector.claims.lic,
		});
	});

	it("never lets a token outlive the license it is for", () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 10 * 24 * 3600 * 1000 }), (msLeft) => {
				const end = new Date(now.getTime() + msLeft);
				fc.pre(Math.floor(end.getTime() / 1000) > Math.floor(now.getTime() / 1000));
				const claims = licenseTokenClaims({ ...base, licenseExpiresAt: end, now });
				expect(claims.exp * 1000).toBeLessThanOrEqual(end.getTime());
				expect(claims.exp).toBe(
					Math.min(claims.iat + LICENSE_TOKEN_TTL_S, Math.floor(end.getTime() / 1000)),
				);
			}),
			{ numRuns: 1000 },
		);
	});

	it("refuses to issue for a license that has already ended", () => {
		expect(() => licenseTokenClaims({ ...base, licenseExpiresAt: now, now })).toThrow(RangeError);
		expect(() => licenseTokenClaims({ ...base, licenseExpiresAt: new Date(0), now })).toThrow(
			RangeError,
		);
	});

	it("gives every token a fresh 128-bit jti", () => {
		const jtis = new Set(
			Array.from(
				{ length: 1000 },
				() => licenseTokenClaims({ ...base, licenseExpiresAt: null }).jti,
			),
		);
		expect(jtis.size).toBe(1000);
		for (const jti of jtis) expect(decodeBase64Url(jti)).toHaveLength(16);
	});

	it("makes claims that sign and verify, in our verifier and in jose", async () => {
		const claims = licenseTokenClaims({ ...base, licenseExpiresAt: null });
		const token = await signLicenseToken(signingKey, claims);
		const ours = await verifyLicenseToken(token, keys, { hardwareId: HARDWARE_ID, issuer: ISSUER });
		expect(ours).toEqual({ ok: true, claims, kid: signingKey.kid });
		const jwks = createLocalJWKSet({ keys: [signingKey.publicJwk] });
		await expect(
			jwtVerify(token, jwks, {
				algorithms: ["EdDSA"],
				typ: LICENSE_TOKEN_TYPE,
				audience: LICENSE_TOKEN_AUDIENCE,
			}),
		).resolves.toBeDefined();
	});
});

describe("signing keys", () => {
	it("are generated as fresh Ed25519 pairs named by their thumbprint", async () => {
		const one = await generateSigningKeyPair();
		const two = await generateSigningKeyPair();
		expect(one.kid).not.toBe(two.kid);
		expect(one.kid).toBe(await jwkThumbprint(one.publicJwk));
		expect(one.publicJwk).toEqual({
			kty: "OKP",
			crv: "Ed25519",
			x: one.publicJwk.x,
			kid: one.kid,
			alg: "EdDSA",
			use: "sig",
		});
		expect(one.privateJwk).toMatchObject({
			...one.publicJwk,
			d: expect.stringMatching(/^[\w-]{43}$/),
		});
	});

	it("import from the JSON string a Worker secret arrives as, or from an object", async () => {
		const pair = await generateSigningKeyPair();
		const fromString = await importSigningKey(JSON.stringify(pair.privateJwk));
		const fromObject = await importSigningKey(pair.privateJwk);
		expect(fromString.kid).toBe(pair.kid);
		expect(fromObject.publicJwk).toEqual(pair.publicJwk);
		expect(fromString.privateKey.extractable).toBe(false);
	});

	it("derive the kid when the JWK has none", async () => {
		const { kid: _kid, alg: _alg, use: _use, ...bare } = vector.test_only_private_jwk;
		expect((await importSigningKey(bare)).kid).toBe(vector.public_jwk.kid);
	});

	it("sign tokens that verify with the matching public key only", async () => {
		const pair = await generateSigningKeyPair();
		const token = await signLicenseToken(
			await importSigningKey(pair.privateJwk),
			claimsAt(VERIFY_AT),
		);
		const theirs = await importPublicKeySet([pair.publicJwk]);
		expect((await verifyLicenseToken(token, theirs, { now: VERIFY_AT })).ok).toBe(true);
		expect(await verifyLicenseToken(token, keys, { now: VERIFY_AT })).toEqual({
			ok: false,
			reason: "UNKNOWN_KEY",
		});
	});

	describe("refuse to import, without ever quoting the key,", () => {
		const jwk = vector.test_only_private_jwk;
		const other = { ...jwk, x: "mDvzTYGZuXt2BdkXmj2LWtZzf5k3-_REEx7GEUilRjw" };
		const cases: [string, string | (JsonWebKey & { kid?: string })][] = [
			["JSON that does not parse", `{"d":"${jwk.d}",`],
			["a JSON string that is not an object", JSON.stringify(jwk.d)],
			["an RSA key", { ...jwk, kty: "RSA" }],
			["an X25519 key", { ...jwk, crv: "X25519" }],
			["a public key (no d)", vector.public_jwk],
			["a d that is not 32 bytes", { ...jwk, d: jwk.d.slice(0, 40) }],
			["a d that does not belong to x", { ...other, kid: undefined }],
			["a kid that is not the thumbprint", { ...jwk, kid: "signing-key-1" }],
			["another alg", { ...jwk, alg: "ES256" }],
			["another use", { ...jwk, use: "enc" }],
		];
		it.each(cases)("%s", async (_, secret) => {
			const error = await importSigningKey(secret).then(
				() => undefined,
				(reason: unknown) => reason,
			);
			expect(error).toBeInstanceOf(Error);
			const message = error instanceof Error ? error.message : "";
			expect(message).toMatch(/^LICENSE_SIGNING_KEY/);
			expect(message).not.toContain(jwk.d.slice(0, 8));
			expect(error instanceof Error ? error.cause : undefined).toBeUndefined();
		});
	});
});

describe("importPublicKeySet", () => {
	it("takes a JWKS document as well as a list of JWKs", async () => {
		const set = await importPublicKeySet({ keys: [vector.public_jwk] });
		expect([...set.keys()]).toEqual([vector.public_jwk.kid]);
	});

	it("skips entries that are not Ed25519 signature keys, or whose kid is not their thumbprint", async () => {
		const set = await importPublicKeySet({
			keys: [
				{ kty: "RSA", n: "AQAB", e: "AQAB", kid: "rsa" },
				{ kty: "OKP", crv: "X25519", x: vector.public_jwk.x, kid: "x25519" },
				{ ...vector.public_jwk, use: "enc" },
				{ ...vector.public_jwk, alg: "ES256" },
				{ ...vector.public_jwk, kid: "chosen-by-attacker" },
				{ ...vector.public_jwk, x: "too-short" },
				null,
				"text",
			],
		});
		expect(set.size).toBe(0);
	});

	it("imports every key bundled in keys/index.ts", async () => {
		expect((await importPublicKeySet(PUBLIC_KEYS)).size).toBe(PUBLIC_KEYS.length);
	});
});

describe("verifyLicenseToken refuses", () => {
	it("alg none, with or without a signature", async () => {
		const header = { ...ourHeader(), alg: "none" };
		const unsigned = `${segment(header)}.${segment(vector.claims)}.`;
		expect(await verifyAtVectorTime(unsigned)).toEqual({ ok: false, reason: "UNSUPPORTED_HEADER" });
		expect(await verifyAtVectorTime(await forge(header, vector.claims))).toEqual({
			ok: false,
			reason: "UNSUPPORTED_HEADER",
		});
	});

	it("HS256 keyed with our public key (algorithm confusion)", async () => {
		const signingInput = `${segment({ ...ourHeader(), alg: "HS256" })}.${segment(vector.claims)}`;
		const hmac = await crypto.subtle.importKey(
			"raw",
			TEST_PUBLIC_KEY,
			{ name: "HMAC", hash: "SHA-256" },
			false,
			["sign"],
		);
		const mac = await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(signingInput));
		const token = `${signingInput}.${encodeBase64Url(new Uint8Array(mac))}`;
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "UNSUPPORTED_HEADER" });
	});

	it.each([
		["JWT", "JWT"],
		["another product's type", "other-license+jwt"],
		["our type in another case", "Coditect-License+JWT"],
		["no type", undefined],
	])("a typ of %s", async (_, typ) => {
		const token = await forge({ ...ourHeader(), typ }, vector.claims);
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "UNSUPPORTED_HEADER" });
	});

	it.each(["jku", "jwk", "x5u", "x5c", "crit", "b64", "cty"])(
		"a %s header member, even on a token our key signed",
		async (member) => {
			const value = member === "jwk" ? vector.public_jwk : member === "b64" ? false : ["exp"];
			const token = await forge({ ...ourHeader(), [member]: value }, vector.claims);
			expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "UNSUPPORTED_HEADER" });
		},
	);

	it("an attacker's key embedded in the header as jwk", async () => {
		const attacker = ed.utils.randomSecretKey();
		const attackerJwk = {
			kty: "OKP",
			crv: "Ed25519",
			x: encodeBase64Url(await ed.getPublicKeyAsync(attacker)),
		};
		const kid = await jwkThumbprint(attackerJwk);
		const token = await forge({ ...ourHeader(), kid, jwk: attackerJwk }, vector.claims, attacker);
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "UNSUPPORTED_HEADER" });
	});

	it("a kid that is not in our key set", async () => {
		const other = await generateSigningKeyPair();
		const token = await signLicenseToken(
			await importSigningKey(other.privateJwk),
			claimsAt(VERIFY_AT),
		);
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "UNKNOWN_KEY" });
	});

	it.each(["../../../etc/passwd", "__proto__", "constructor", "toString", " "])(
		"a kid pointing to nothing (%j)",
		async (kid) => {
			const token = await forge({ ...ourHeader(), kid }, vector.claims);
			expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "UNKNOWN_KEY" });
		},
	);

	it.each([
		["missing", undefined],
		["empty", ""],
		["a number", 1],
	])("a kid that is %s", async (_, kid) => {
		const token = await forge({ ...ourHeader(), kid }, vector.claims);
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "UNSUPPORTED_HEADER" });
	});

	it("a token signed by another key under our kid", async () => {
		const token = await forge(ourHeader(), vector.claims, ed.utils.randomSecretKey());
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "BAD_SIGNATURE" });
	});

	it("claims changed after signing", async () => {
		const [header, , signature] = vector.token.split(".");
		const upgraded = { ...vector.claims, lic: { ...vector.claims.lic, plan: "enterprise" } };
		const token = `${header}.${segment(upgraded)}.${signature}`;
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "BAD_SIGNATURE" });
	});

	it("any single-bit flip anywhere in the token (property)", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.nat({ max: vector.token.length - 1 }),
				fc.nat({ max: 7 }),
				async (index, bit) => {
					const result = await verifyAtVectorTime(flipBit(vector.token, index, bit));
					expect(result.ok).toBe(false);
				},
			),
			{ numRuns: 1000 },
		);
	});

	it("every single-bit flip of every character of the token (exhaustive)", async () => {
		const accepted: string[] = [];
		for (let index = 0; index < vector.token.length; index++) {
			for (let bit = 0; bit < 8; bit++) {
				const flipped = flipBit(vector.token, index, bit);
				if ((await verifyAtVectorTime(flipped)).ok) accepted.push(`${index}:${bit}`);
			}
		}
		expect(accepted).toEqual([]);
	});

	it("a second spelling of the same signature (non-zero unused base64url bits)", async () => {
		const last = vector.token.charCodeAt(vector.token.length - 1);
		const respelled = vector.token.slice(0, -1) + String.fromCharCode(last + 1);
		// A lenient decoder reads both spellings as the same 64 bytes.
		const lenient = (token: string) => Buffer.from(token.split(".")[2] ?? "", "base64url");
		expect(lenient(respelled)).toEqual(lenient(vector.token));
		expect(decodeBase64Url(vector.token.split(".")[2] ?? "")).toHaveLength(64);
		expect(await verifyAtVectorTime(respelled)).toEqual({ ok: false, reason: "MALFORMED" });
		expect(await verifyAtVectorTime(`${vector.token}==`)).toEqual({
			ok: false,
			reason: "MALFORMED",
		});
	});

	it("every truncation of the token", async () => {
		for (let length = 0; length < vector.token.length; length++) {
			expect((await verifyAtVectorTime(vector.token.slice(0, length))).ok).toBe(false);
		}
	});

	it("the wrong number of segments", async () => {
		const [header, payload, signature] = vector.token.split(".");
		for (const token of [
			`${header}.${payload}`,
			`${vector.token}.${signature}`,
			`${header}..${signature}`,
		]) {
			expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "MALFORMED" });
		}
	});

	it("anything longer than 4 KiB, before doing any work", async () => {
		const token = `${vector.token}${"A".repeat(4096)}`;
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "MALFORMED" });
	});

	it("arbitrary input, without ever throwing", async () => {
		await fc.assert(
			fc.asyncProperty(fc.string({ maxLength: 800 }), async (input) => {
				expect((await verifyAtVectorTime(input)).ok).toBe(false);
			}),
			{ numRuns: 500 },
		);
		for (const input of [undefined, null, 42, {}, ["a.b.c"]]) {
			expect(await verifyAtVectorTime(input as unknown as string)).toEqual({
				ok: false,
				reason: "MALFORMED",
			});
		}
	});

	it("an expired token, from the second exp is reached", async () => {
		const exp = new Date(vector.claims.exp * 1000);
		expect(
			(await verifyLicenseToken(vector.token, keys, { now: new Date(exp.getTime() - 1000) })).ok,
		).toBe(true);
		expect(await verifyLicenseToken(vector.token, keys, { now: exp })).toEqual({
			ok: false,
			reason: "EXPIRED",
		});
	});

	it("a token issued more than 5 minutes in the future (a clock set back)", async () => {
		const ahead = (seconds: number) => claimsAt(new Date(VERIFY_AT.getTime() + seconds * 1000));
		const justInside = await signLicenseToken(signingKey, ahead(MAX_CLOCK_SKEW_S));
		const outside = await signLicenseToken(signingKey, ahead(MAX_CLOCK_SKEW_S + 1));
		expect((await verifyAtVectorTime(justInside)).ok).toBe(true);
		expect(await verifyAtVectorTime(outside)).toEqual({ ok: false, reason: "ISSUED_IN_FUTURE" });
	});

	it("a token not valid before a time more than 5 minutes ahead", async () => {
		const claims = claimsAt(VERIFY_AT, {
			nbf: Math.floor(VERIFY_AT.getTime() / 1000) + MAX_CLOCK_SKEW_S + 1,
		});
		const token = await signLicenseToken(signingKey, claims);
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "NOT_YET_VALID" });
	});

	it("a token for another audience, even one signed by our key", async () => {
		const token = await forge(ourHeader(), { ...vector.claims, aud: "coditect-web" });
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "WRONG_AUDIENCE" });
	});

	it("an audience given as a list (we only ever sign a string)", async () => {
		const token = await forge(ourHeader(), { ...vector.claims, aud: [LICENSE_TOKEN_AUDIENCE] });
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "MALFORMED" });
	});

	it("a token from another issuer, when the issuer is pinned", async () => {
		const token = await signLicenseToken(signingKey, {
			...vector.claims,
			iss: "https://evil.example",
		});
		expect(await verifyAtVectorTime(token)).toEqual({ ok: false, reason: "WRONG_ISSUER" });
	});

	it("a token for another machine", async () => {
		const result = await verifyLicenseToken(vector.token, keys, {
			now: VERIFY_AT,
			hardwareId: "f".repeat(64),
		});
		expect(result).toEqual({ ok: false, reason: "WRONG_HARDWARE" });
	});

	it.each([
		["no lic", { ...vector.claims, lic: undefined }],
		["a string iat", { ...vector.claims, iat: String(vector.claims.iat) }],
		["a fractional exp", { ...vector.claims, exp: vector.claims.exp + 0.5 }],
		[
			"non-string entitlements",
			{ ...vector.claims, lic: { ...vector.claims.lic, entitlements: [1] } },
		],
		["a JSON array", [vector.claims]],
	])("signed claims of the wrong shape (%s)", async (_, payload) => {
		expect(await verifyAtVectorTime(await forge(ourHeader(), payload))).toEqual({
			ok: false,
			reason: "MALFORMED",
		});
	});

	it("a bad clock (Invalid Date) rather than accept the token", async () => {
		const result = await verifyLicenseToken(vector.token, keys, { now: new Date(Number.NaN) });
		expect(result.ok).toBe(false);
	});

	it("in order: header before key, key before signature, signature before claims", async () => {
		const expiredForgery = await forge(
			ourHeader(),
			{ ...vector.claims, exp: 1 },
			ed.utils.randomSecretKey(),
		);
		expect(await verifyAtVectorTime(expiredForgery)).toEqual({
			ok: false,
			reason: "BAD_SIGNATURE",
		});
		const unknownAndForged = await forge(
			{ ...ourHeader(), kid: "nope" },
			vector.claims,
			ed.utils.randomSecretKey(),
		);
		expect(await verifyAtVectorTime(unknownAndForged)).toEqual({
			ok: false,
			reason: "UNKNOWN_KEY",
		});
		const badHeaderUnknownKid = await forge(
			{ ...ourHeader(), alg: "ES256", kid: "nope" },
			vector.claims,
		);
		expect(await verifyAtVectorTime(badHeaderUnknownKid)).toEqual({
			ok: false,
			reason: "UNSUPPORTED_HEADER",
		});
	});
});

describe("signLicenseToken", () => {
	it("refuses claims no verifier would accept, which would be a bug upstream", async () => {
		await expect(signLicenseToken(signingKey, { ...vector.claims, aud: "other" })).rejects.toThrow(
			TypeError,
		);
		await expect(signLicenseToken(signingKey, { ...vector.claims, hwid: "" })).rejects.toThrow(
			TypeError,
		);
	});

	it("signs only the known claims, in a fixed order", async () => {
		const extra = { ...vector.claims, admin: true } as LicenseTokenClaims;
		expect(await signLicenseToken(signingKey, extra)).toBe(vector.token);
	});
});

describe("keys/new-key-pair.ts, run as `npm run keys:new` runs it", () => {
	it("writes only the public key, regenerates the index and prints a private JWK our code accepts", async () => {
		const dir = await mkdtemp(join(tmpdir(), "coditect-keys-"));
		try {
			const { stdout } = await promisify(execFile)(
				process.execPath,
				["--experimental-strip-types", "keys/new-key-pair.ts", "--out-dir", dir],
				{ cwd: join(import.meta.dirname, "../.."), env: { ...process.env, NODE_NO_WARNINGS: "1" } },
			);
			const privateJwk: unknown = JSON.parse(stdout.trim());
			const key = await importSigningKey(privateJwk as JsonWebKey);
			expect(privateJwk).toMatchObject({ kid: key.kid, d: expect.any(String) });
			expect(key.kid).toBe(await jwkThumbprint(key.publicJwk));

			expect((await readdir(dir)).sort()).toEqual([`${key.kid}.json`, "index.ts"].sort());
			const written: unknown = JSON.parse(await readFile(join(dir, `${key.kid}.json`), "utf8"));
			expect(written).toEqual(key.publicJwk);
			const index = await readFile(join(dir, "index.ts"), "utf8");
			expect(index).toContain(`kid: "${key.kid}"`);
			for (const file of await readdir(dir)) {
				expect(await readFile(join(dir, file), "utf8")).not.toMatch(/\bd\b"?\s*:/);
			}

			const token = await signLicenseToken(key, claimsAt(VERIFY_AT));
			const set = await importPublicKeySet([written as never]);
			expect((await verifyLicenseToken(token, set, { now: VERIFY_AT })).ok).toBe(true);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});
});
