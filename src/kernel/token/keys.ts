/**
 * Ed25519 public keys: JWKs as published in the JWKS and bundled from `keys/`, RFC 7638
 * thumbprints as `kid`s, and the pluggable verification primitives (WebCrypto by default).
 */
import { decodeBase64Url, encodeBase64Url, encodeUtf8 } from "../base64url";
import { isJsonObject, JWS_ALGORITHM } from "./jws";

export const ED25519: Algorithm = { name: "Ed25519" };
const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** A public signing key as published in the JWKS and in `keys/`. */
export type PublicJwk = {
	kty: "OKP";
	crv: "Ed25519";
	x: string;
	kid: string;
	alg: "EdDSA";
	use: "sig";
};

/** Verification keys by `kid`. Only keys from here are ever used: never one named by a token. */
export type PublicKeySet = ReadonlyMap<string, CryptoKey>;

/**
 * The crypto primitives verification needs, for a key type `K`. The default,
 * `webCryptoVerifier`, works everywhere (workerd, Node, browsers). The CLI plugs in Node's
 * synchronous node:crypto, which starts measurably faster in a fresh Node process (no
 * WebCrypto initialisation, no thread-pool round trip per operation). Every format check
 * stays here, in `verifyLicenseTokenWith`, whichever primitives are used.
 */
export interface SignatureVerifier<K> {
	/** Imports a raw 32-byte Ed25519 public key; throws if it is not one. */
	importKey(x: Uint8Array<ArrayBuffer>): K | Promise<K>;
	/** Ed25519 verification; false (never a throw) for a bad signature. */
	verify(
		key: K,
		signature: Uint8Array<ArrayBuffer>,
		data: Uint8Array<ArrayBuffer>,
	): boolean | Promise<boolean>;
	sha256(data: Uint8Array<ArrayBuffer>): Uint8Array | Promise<Uint8Array>;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
	return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

async function thumbprintWith(
	jwk: { crv: string; kty: string; x: string },
	digest: (data: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>,
): Promise<string> {
	const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
	return encodeBase64Url(await digest(encodeUtf8(canonical)));
}

/**
 * RFC 7638 JWK thumbprint of an OKP key (base64url SHA-256 of `{"crv","kty","x"}` in that
 * order, no white space). License-token `kid`s are thumbprints, so a `kid` names exactly
 * one public key.
 */
export async function jwkThumbprint(jwk: { crv: string; kty: string; x: string }): Promise<string> {
	return thumbprintWith(jwk, sha256);
}

export function publicJwkFor(x: string, kid: string): PublicJwk {
	return { kty: "OKP", crv: "Ed25519", x, kid, alg: JWS_ALGORITHM, use: "sig" };
}

export function readKeyBytes(value: unknown): Uint8Array<ArrayBuffer> | null {
	if (typeof value !== "string") return null;
	try {
		const bytes = decodeBase64Url(value);
		return bytes.length === ED25519_KEY_BYTES ? bytes : null;
	} catch {
		return null;
	}
}

export async function importEd25519PublicKey(x: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", x, ED25519, true, ["verify"]);
}

/** The WebCrypto primitives: what `verifyLicenseToken` and `importPublicKeySet` use. */
export const webCryptoVerifier: SignatureVerifier<CryptoKey> = {
	importKey: importEd25519PublicKey,
	async verify(key, signature, data) {
		try {
			return await crypto.subtle.verify(ED25519, key, signature, data);
		} catch {
			return false;
		}
	},
	sha256,
};

async function importPublicJwk<K>(
	entry: unknown,
	verifier: SignatureVerifier<K>,
): Promise<[string, K] | null> {
	if (!isJsonObject(entry) || entry.kty !== "OKP" || entry.crv !== "Ed25519") return null;
	if (entry.alg !== undefined && entry.alg !== JWS_ALGORITHM) return null;
	if (entry.use !== undefined && entry.use !== "sig") return null;
	const x = entry.x;
	const bytes = readKeyBytes(x);
	if (bytes === null || typeof x !== "string") return null;
	const thumbprint = await thumbprintWith({ crv: "Ed25519", kty: "OKP", x }, (d) =>
		verifier.sha256(d),
	);
	if (entry.kid !== undefined && entry.kid !== thumbprint) return null;
	try {
		return [thumbprint, await verifier.importKey(bytes)];
	} catch {
		return null;
	}
}

/**
 * Imports verification keys from a list of public JWKs or a JWKS document (`{keys:[…]}`).
 * Entries that are not Ed25519 signature keys are skipped, and so is any entry whose `kid`
 * is not its RFC 7638 thumbprint: a `kid` then names exactly one key, so a key set merged
 * from several sources (pinned keys plus a fetched JWKS) can never map one `kid` to two keys.
 */
export async function importPublicKeySet(
	jwks: readonly PublicJwk[] | { keys: readonly unknown[] },
): Promise<PublicKeySet> {
	return importPublicKeySetWith(jwks, webCryptoVerifier);
}

/** `importPublicKeySet` with other crypto primitives (see `SignatureVerifier`); same rules. */
export async function importPublicKeySetWith<K>(
	jwks: readonly PublicJwk[] | { keys: readonly unknown[] },
	verifier: SignatureVerifier<K>,
): Promise<ReadonlyMap<string, K>> {
	const entries: readonly unknown[] = isJsonObject(jwks)
		? Array.isArray(jwks.keys)
			? jwks.keys
			: []
		: Array.isArray(jwks)
			? jwks
			: [];
	const imported = await Promise.all(entries.map((entry) => importPublicJwk(entry, verifier)));
	const keys = new Map<string, K>();
	for (const pair of imported) {
		if (pair !== null) keys.set(pair[0], pair[1]);
	}
	return keys;
}
