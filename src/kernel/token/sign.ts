/**
 * The server's side: the private signing key (from the LICENSE_SIGNING_KEY secret) and
 * signing claims into a compact JWS. The CLI never imports this file.
 */
import { encodeBase64Url, encodeUtf8 } from "../base64url";
import { CI_TOKEN_AUDIENCE, CI_TOKEN_TYPE, type CiTokenClaims, readCiClaims } from "./ci";
import {
	LICENSE_TOKEN_AUDIENCE,
	LICENSE_TOKEN_TYPE,
	type LicenseTokenClaims,
	readClaims,
} from "./claims";
import { encodeJsonSegment, isJsonObject, JWS_ALGORITHM } from "./jws";
import {
	ED25519,
	importEd25519PublicKey,
	jwkThumbprint,
	type PublicJwk,
	publicJwkFor,
	readKeyBytes,
} from "./keys";

/** The server's private signing key, ready to use. */
export interface SigningKey {
	kid: string;
	privateKey: CryptoKey;
	publicJwk: PublicJwk;
	/**
	 * Signs the JWS signing input. WebCrypto by default; a platform may swap in a faster
	 * signer for the same key (Node's synchronous `crypto.sign` is ~2.5× cheaper per token),
	 * which answers at once rather than with a promise.
	 */
	sign(data: Uint8Array<ArrayBuffer>): Uint8Array | Promise<Uint8Array>;
}

/**
 * Makes a new Ed25519 key pair. `privateJwk` is what goes into the `LICENSE_SIGNING_KEY`
 * secret; `publicJwk` goes into `keys/` and the JWKS. `kid` is the RFC 7638 thumbprint.
 */
export async function generateSigningKeyPair(): Promise<{
	kid: string;
	privateJwk: JsonWebKey & { kid: string };
	publicJwk: PublicJwk;
}> {
	const pair = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]);
	if (!("privateKey" in pair)) {
		throw new Error("WebCrypto did not return an Ed25519 key pair");
	}
	const exported = await crypto.subtle.exportKey("jwk", pair.privateKey);
	if (!isJsonObject(exported) || typeof exported.x !== "string" || typeof exported.d !== "string") {
		throw new Error("WebCrypto exported an Ed25519 key without x or d");
	}
	const kid = await jwkThumbprint({ crv: "Ed25519", kty: "OKP", x: exported.x });
	const publicJwk = publicJwkFor(exported.x, kid);
	return { kid, privateJwk: { ...publicJwk, d: exported.d }, publicJwk };
}

function parseSigningKeySecret(secret: string): unknown {
	try {
		return JSON.parse(secret);
	} catch {
		// No `cause`: V8's JSON.parse message quotes the input, i.e. the private key.
		throw new Error("LICENSE_SIGNING_KEY is not valid JSON (expected a private Ed25519 JWK)");
	}
}

/**
 * Signs and verifies a probe, so a `d` that does not belong to `x` fails at start-up. Node
 * refuses such a JWK on import, but workerd accepts it and would sign tokens that no
 * published key verifies.
 */
async function assertKeyPairMatches(
	privateKey: CryptoKey,
	x: Uint8Array<ArrayBuffer>,
): Promise<void> {
	const probe = encodeUtf8("coditect license signing key self-test");
	let matches = false;
	try {
		const publicKey = await importEd25519PublicKey(x);
		const signature = await crypto.subtle.sign(ED25519, privateKey, probe);
		matches = await crypto.subtle.verify(ED25519, publicKey, signature, probe);
	} catch {
		matches = false;
	}
	if (!matches) {
		throw new Error("LICENSE_SIGNING_KEY: the private key d does not match the public key x");
	}
}

/**
 * Imports the server's private signing key: a private Ed25519 JWK, as a JSON string (how a
 * Worker secret arrives) or as an object. Requires `kty: "OKP"`, `crv: "Ed25519"` and
 * 32-byte `d` and `x`; `alg` and `use`, when present, must be `EdDSA` and `sig`.
 *
 * `kid` is optional, and when present must equal the RFC 7638 thumbprint: a different value
 * means a hand-edited or mixed-up secret whose tokens would name a key nobody publishes,
 * which is better found at start-up than by every CLI in the field.
 *
 * Throws a plain `Error` whose message names the problem but never contains key material.
 */
export async function importSigningKey(
	secret: string | (JsonWebKey & { kid?: string }),
): Promise<SigningKey> {
	const jwk: unknown = typeof secret === "string" ? parseSigningKeySecret(secret) : secret;
	if (!isJsonObject(jwk)) {
		throw new Error("LICENSE_SIGNING_KEY must be a JWK object");
	}
	if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519") {
		throw new Error('LICENSE_SIGNING_KEY must be an Ed25519 JWK (kty "OKP", crv "Ed25519")');
	}
	if (jwk.alg !== undefined && jwk.alg !== JWS_ALGORITHM) {
		throw new Error('LICENSE_SIGNING_KEY alg must be "EdDSA" when present');
	}
	if (jwk.use !== undefined && jwk.use !== "sig") {
		throw new Error('LICENSE_SIGNING_KEY use must be "sig" when present');
	}
	const d = readKeyBytes(jwk.d);
	if (d === null) {
		throw new Error("LICENSE_SIGNING_KEY must contain the private key d (32 bytes, base64url)");
	}
	const xBytes = readKeyBytes(jwk.x);
	if (xBytes === null || typeof jwk.x !== "string") {
		throw new Error("LICENSE_SIGNING_KEY must contain the public key x (32 bytes, base64url)");
	}
	const x = jwk.x;
	const kid = await jwkThumbprint({ crv: "Ed25519", kty: "OKP", x });
	if (jwk.kid !== undefined && jwk.kid !== kid) {
		throw new Error("LICENSE_SIGNING_KEY kid is not the RFC 7638 thumbprint of its public key");
	}
	let privateKey: CryptoKey;
	try {
		privateKey = await crypto.subtle.importKey(
			"jwk",
			{ kty: "OKP", crv: "Ed25519", x, d: encodeBase64Url(d) },
			ED25519,
			false,
			["sign"],
		);
	} catch {
		throw new Error("LICENSE_SIGNING_KEY could not be imported as an Ed25519 private key");
	}
	await assertKeyPairMatches(privateKey, xBytes);
	return {
		kid,
		privateKey,
		publicJwk: publicJwkFor(x, kid),
		sign: async (data) => new Uint8Array(await crypto.subtle.sign(ED25519, privateKey, data)),
	};
}

/**
 * Signs claims into a compact JWS with header `{"alg":"EdDSA","typ":…,"kid":key.kid}`.
 * Ed25519 is deterministic, so the same key and claims always give the same token.
 * Throws `TypeError` for claims that no verifier would accept (wrong shape or `aud`).
 */
export async function signLicenseToken(
	key: SigningKey,
	claims: LicenseTokenClaims,
): Promise<string> {
	return signLicenseTokenAtOnce(key, claims);
}

/**
 * signLicenseToken for the server's hot paths: the token itself when the key signs
 * synchronously (Node), else its promise; malformed claims throw rather than reject.
 * An async function would wrap even a ready token in a promise and one more turn of the queue.
 */
export function signLicenseTokenAtOnce(
	key: SigningKey,
	claims: LicenseTokenClaims,
): string | Promise<string> {
	const payload = readClaims(claims);
	if (payload === null || payload.aud !== LICENSE_TOKEN_AUDIENCE) {
		throw new TypeError("license token claims are malformed");
	}
	return signJws(key, LICENSE_TOKEN_TYPE, payload);
}

/** Signs CI lease token claims (`typ: "coditect-ci+jwt"`); throws `TypeError` for malformed ones. */
export async function signCiToken(key: SigningKey, claims: CiTokenClaims): Promise<string> {
	const payload = readCiClaims(claims);
	if (payload === null || payload.aud !== CI_TOKEN_AUDIENCE) {
		throw new TypeError("ci token claims are malformed");
	}
	return signJws(key, CI_TOKEN_TYPE, payload);
}

/** The encoded header for a key and token type: the same bytes every time (two kinds per key). */
const headerSegments = new WeakMap<SigningKey, Map<string, string>>();

function headerSegment(key: SigningKey, typ: string): string {
	let byTyp = headerSegments.get(key);
	if (!byTyp) {
		byTyp = new Map();
		headerSegments.set(key, byTyp);
	}
	let segment = byTyp.get(typ);
	if (segment === undefined) {
		segment = encodeJsonSegment({ alg: JWS_ALGORITHM, typ, kid: key.kid });
		byTyp.set(typ, segment);
	}
	return segment;
}

/** The token at once when the key signs synchronously (Node): no promise on validate's path. */
function signJws(key: SigningKey, typ: string, payload: unknown): string | Promise<string> {
	const signingInput = `${headerSegment(key, typ)}.${encodeJsonSegment(payload)}`;
	const signature = key.sign(encodeUtf8(signingInput));
	// No named closure on the synchronous path: one per token, and under tsx (how `npm start`
	// runs) each named function also gets a defineProperty call for its name (keepNames).
	if (signature instanceof Uint8Array) return `${signingInput}.${encodeBase64Url(signature)}`;
	return signature.then((s) => `${signingInput}.${encodeBase64Url(s)}`);
}
