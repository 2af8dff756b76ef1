/**
 * License tokens (SPEC §4): compact JWS, Ed25519 (`alg: "EdDSA"`, RFC 8037), header
 * exactly `{"alg":"EdDSA","typ":"coditect-license+jwt","kid":"…"}`.
 *
 * Only WebCrypto is used (algorithm name "Ed25519"), so the same code signs in workerd and
 * Node and verifies in the bundled CLI. Any standard JOSE library can verify these tokens
 * from the JWKS alone; test/unit/license-token.test.ts proves it with `jose`.
 */

import { decodeBase64Url, decodeUtf8, encodeBase64Url, encodeUtf8 } from "./base64url";

/** The JWS `typ` header: pinned on verification so no other JWT passes as a license. */
export const LICENSE_TOKEN_TYPE = "coditect-license+jwt";
/** The `aud` claim every license token carries and every verifier demands. */
export const LICENSE_TOKEN_AUDIENCE = "coditect-cli";
/** Token lifetime, which is also the CLI's offline grace: 72 hours. */
export const LICENSE_TOKEN_TTL_S: number = 72 * 3600;
/** How far in the future `iat`/`nbf` may lie before a token is refused (5 minutes). */
export const MAX_CLOCK_SKEW_S = 300;
/**
 * Longest token `verifyLicenseToken` will look at. Real tokens are about 700 characters;
 * the cap bounds the work an attacker-supplied string can cause.
 */
export const MAX_LICENSE_TOKEN_LENGTH = 4096;

const JWS_ALGORITHM = "EdDSA";
const ED25519: Algorithm = { name: "Ed25519" };
const ED25519_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

/** The payload of a license token. Times are seconds since the epoch. */
export interface LicenseTokenClaims {
	/** The server's public URL. */
	iss: string;
	/** Always `LICENSE_TOKEN_AUDIENCE`. */
	aud: string;
	/** The license id (`lic_…`). */
	sub: string;
	/** Random token id (base64url of 16 bytes). */
	jti: string;
	iat: number;
	nbf: number;
	/** `iat` + 72 h, or the license's own end if that comes first. */
	exp: number;
	/** The hardware id of the activation this token was issued to. */
	hwid: string;
	lic: {
		plan: string;
		status: string;
		/** ISO 8601 end of the license, or null when it does not end (e.g. a live subscription). */
		expires_at: string | null;
		max_activations: number;
		entitlements: TokenEntitlements;
	};
}

/**
 * The token's `lic.entitlements`: feature names only (the plan's `features`). Not the API's
 * `entitlements` object (seats, activations per seat, CI runners, features) that shares its
 * name; the token format is fixed, so the types are named apart instead.
 */
export type TokenEntitlements = string[];

/** A public signing key as published in the JWKS and in `keys/`. */
export type PublicJwk = {
	kty: "OKP";
	crv: "Ed25519";
	x: string;
	kid: string;
	alg: "EdDSA";
	use: "sig";
};

/** The server's private signing key, ready to use. */
export interface SigningKey {
	kid: string;
	privateKey: CryptoKey;
	publicJwk: PublicJwk;
	/**
	 * Signs the JWS signing input. WebCrypto by default; a platform may swap in a faster
	 * signer for the same key (Node's synchronous `crypto.sign` is ~2.5× cheaper per token).
	 */
	sign(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

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

/** Why `verifyLicenseToken` refused a token. */
export type VerifyFailure =
	| "MALFORMED"
	| "UNSUPPORTED_HEADER"
	| "UNKNOWN_KEY"
	| "BAD_SIGNATURE"
	| "WRONG_AUDIENCE"
	| "WRONG_ISSUER"
	| "NOT_YET_VALID"
	| "ISSUED_IN_FUTURE"
	| "EXPIRED"
	| "WRONG_HARDWARE";

/** Outcome of `verifyLicenseToken`: a refused token is a result, not an exception. */
export type VerifyResult =
	| { ok: true; claims: LicenseTokenClaims; kid: string }
	| { ok: false; reason: VerifyFailure };

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
	return typeof value === "string" && value.length > 0;
}

function isSeconds(value: unknown): value is number {
	return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
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

function publicJwkFor(x: string, kid: string): PublicJwk {
	return { kty: "OKP", crv: "Ed25519", x, kid, alg: JWS_ALGORITHM, use: "sig" };
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

function readKeyBytes(value: unknown): Uint8Array<ArrayBuffer> | null {
	if (typeof value !== "string") return null;
	try {
		const bytes = decodeBase64Url(value);
		return bytes.length === ED25519_KEY_BYTES ? bytes : null;
	} catch {
		return null;
	}
}

function parseSigningKeySecret(secret: string): unknown {
	try {
		return JSON.parse(secret);
	} catch {
		// No `cause`: V8's JSON.parse message quotes the input, i.e. the private key.
		throw new Error("LICENSE_SIGNING_KEY is not valid JSON (expected a private Ed25519 JWK)");
	}
}

async function importEd25519PublicKey(x: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", x, ED25519, true, ["verify"]);
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

function randomJti(): string {
	return encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

function toSeconds(date: Date, name: string): number {
	const seconds = Math.floor(date.getTime() / 1000);
	if (!Number.isSafeInteger(seconds)) {
		throw new RangeError(`${name} is not a valid date`);
	}
	return seconds;
}

/**
 * Builds the claims of a new token: `iat` = `nbf` = now, `exp` = now + 72 h or the
 * license's end (rounded down to the second), whichever is first, and a random `jti`.
 * Throws `RangeError` if the license has already ended: issuing would be a bug upstream.
 */
export function licenseTokenClaims(input: {
	issuer: string;
	licenseId: string;
	hardwareId: string;
	lic: LicenseTokenClaims["lic"];
	licenseExpiresAt: Date | null;
	now?: Date;
}): LicenseTokenClaims {
	const iat = toSeconds(input.now ?? new Date(), "now");
	let exp = iat + LICENSE_TOKEN_TTL_S;
	if (input.licenseExpiresAt !== null) {
		const end = toSeconds(input.licenseExpiresAt, "licenseExpiresAt");
		if (end <= iat) {
			throw new RangeError("the license has already ended; no token can be issued");
		}
		exp = Math.min(exp, end);
	}
	return {
		iss: input.issuer,
		aud: LICENSE_TOKEN_AUDIENCE,
		sub: input.licenseId,
		jti: randomJti(),
		iat,
		nbf: iat,
		exp,
		hwid: input.hardwareId,
		lic: {
			plan: input.lic.plan,
			status: input.lic.status,
			expires_at: input.lic.expires_at,
			max_activations: input.lic.max_activations,
			entitlements: [...input.lic.entitlements],
		},
	};
}

function readLic(value: unknown): LicenseTokenClaims["lic"] | null {
	if (!isJsonObject(value)) return null;
	const { plan, status, expires_at, max_activations, entitlements } = value;
	if (typeof plan !== "string" || typeof status !== "string") return null;
	if (expires_at !== null && typeof expires_at !== "string") return null;
	if (typeof max_activations !== "number" || !Number.isSafeInteger(max_activations)) return null;
	if (max_activations < 0) return null;
	if (!Array.isArray(entitlements)) return null;
	const names: string[] = [];
	for (const entitlement of entitlements) {
		if (typeof entitlement !== "string") return null;
		names.push(entitlement);
	}
	return { plan, status, expires_at, max_activations, entitlements: names };
}

/**
 * Checks the shape of a claims object and returns a fresh copy with only the known claims,
 * in a fixed order (so signing is deterministic and unknown claims are dropped).
 */
function readClaims(value: unknown): LicenseTokenClaims | null {
	if (!isJsonObject(value)) return null;
	const { iss, aud, sub, jti, iat, nbf, exp, hwid } = value;
	if (!isNonEmptyString(iss) || typeof aud !== "string" || !isNonEmptyString(sub)) return null;
	if (!isNonEmptyString(jti) || !isNonEmptyString(hwid)) return null;
	if (!isSeconds(iat) || !isSeconds(nbf) || !isSeconds(exp)) return null;
	const lic = readLic(value.lic);
	if (lic === null) return null;
	return { iss, aud, sub, jti, iat, nbf, exp, hwid, lic };
}

function encodeJsonSegment(value: unknown): string {
	return encodeBase64Url(encodeUtf8(JSON.stringify(value)));
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
	const payload = readClaims(claims);
	if (payload === null || payload.aud !== LICENSE_TOKEN_AUDIENCE) {
		throw new TypeError("license token claims are malformed");
	}
	const header = { alg: JWS_ALGORITHM, typ: LICENSE_TOKEN_TYPE, kid: key.kid };
	const signingInput = `${encodeJsonSegment(header)}.${encodeJsonSegment(payload)}`;
	const signature = await key.sign(encodeUtf8(signingInput));
	return `${signingInput}.${encodeBase64Url(signature)}`;
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

interface CompactJws {
	headerSegment: string;
	payloadSegment: string;
	header: Uint8Array<ArrayBuffer>;
	payload: Uint8Array<ArrayBuffer>;
	signature: Uint8Array<ArrayBuffer>;
}

function splitCompactJws(token: unknown): CompactJws | null {
	if (typeof token !== "string" || token.length > MAX_LICENSE_TOKEN_LENGTH) return null;
	const segments = token.split(".");
	if (segments.length !== 3) return null;
	const [headerSegment = "", payloadSegment = "", signatureSegment = ""] = segments;
	if (headerSegment === "" || payloadSegment === "") return null;
	try {
		return {
			headerSegment,
			payloadSegment,
			header: decodeBase64Url(headerSegment),
			payload: decodeBase64Url(payloadSegment),
			signature: decodeBase64Url(signatureSegment),
		};
	} catch {
		return null;
	}
}

function parseJsonBytes(bytes: Uint8Array): unknown {
	try {
		return JSON.parse(decodeUtf8(bytes));
	} catch {
		return undefined;
	}
}

const ALLOWED_HEADER_MEMBERS: ReadonlySet<string> = new Set(["alg", "typ", "kid"]);

/**
 * Pins the header to exactly the members we sign with. Anything else — `jku`, `jwk`, `x5u`,
 * `x5c` (keys supplied by the token), `crit` or `b64` (changed processing rules) — is
 * refused rather than ignored: our signer never emits them, so their presence means the
 * token was not made by us, and refusing cannot be gotten wrong by a later edit.
 */
function checkHeader(header: JsonObject): { kid: string } | null {
	for (const member of Object.keys(header)) {
		if (!ALLOWED_HEADER_MEMBERS.has(member)) return null;
	}
	if (header.alg !== JWS_ALGORITHM || header.typ !== LICENSE_TOKEN_TYPE) return null;
	return isNonEmptyString(header.kid) ? { kid: header.kid } : null;
}

async function verifySignature<K>(
	key: K,
	jws: CompactJws,
	verifier: SignatureVerifier<K>,
): Promise<boolean> {
	if (jws.signature.length !== ED25519_SIGNATURE_BYTES) return false;
	const signingInput = encodeUtf8(`${jws.headerSegment}.${jws.payloadSegment}`);
	try {
		return (await verifier.verify(key, jws.signature, signingInput)) === true;
	} catch {
		return false;
	}
}

/**
 * Checks the time and binding claims. Comparisons are written so that NaN fails closed:
 * a bad `now` refuses the token instead of accepting it.
 */
function checkClaims(
	claims: LicenseTokenClaims,
	opts: { now?: Date; hardwareId?: string; issuer?: string },
): VerifyFailure | null {
	const now = (opts.now ?? new Date()).getTime() / 1000;
	if (claims.aud !== LICENSE_TOKEN_AUDIENCE) return "WRONG_AUDIENCE";
	if (opts.issuer !== undefined && claims.iss !== opts.issuer) return "WRONG_ISSUER";
	if (!(claims.iat <= now + MAX_CLOCK_SKEW_S)) return "ISSUED_IN_FUTURE";
	if (!(claims.nbf <= now + MAX_CLOCK_SKEW_S)) return "NOT_YET_VALID";
	if (!(claims.exp > now)) return "EXPIRED";
	if (opts.hardwareId !== undefined && claims.hwid !== opts.hardwareId) return "WRONG_HARDWARE";
	return null;
}

function refuse(reason: VerifyFailure): VerifyResult {
	return { ok: false, reason };
}

/**
 * Verifies a license token against our own key set. In order: length cap and parse →
 * header pinned to `alg: "EdDSA"`, our `typ` and a `kid`, nothing else → key by `kid` from
 * `keys` only → Ed25519 signature → claims shape, `aud`, `iss` (if `opts.issuer`), `iat`
 * and `nbf` no more than 5 minutes ahead, `exp` after now, `hwid` (if `opts.hardwareId`).
 *
 * Never throws for a bad token: every refusal is `{ ok: false, reason }`.
 */
export async function verifyLicenseToken(
	token: string,
	keys: PublicKeySet,
	opts: { now?: Date; hardwareId?: string; issuer?: string } = {},
): Promise<VerifyResult> {
	return verifyLicenseTokenWith(token, keys, webCryptoVerifier, opts);
}

/**
 * `verifyLicenseToken` with other crypto primitives (see `SignatureVerifier`): the same
 * parse, header pinning, key lookup and claim checks; only the signature check is plugged.
 */
export async function verifyLicenseTokenWith<K>(
	token: string,
	keys: ReadonlyMap<string, K>,
	verifier: SignatureVerifier<K>,
	opts: { now?: Date; hardwareId?: string; issuer?: string } = {},
): Promise<VerifyResult> {
	const jws = splitCompactJws(token);
	if (jws === null) return refuse("MALFORMED");
	const header = parseJsonBytes(jws.header);
	if (!isJsonObject(header)) return refuse("MALFORMED");
	const pinned = checkHeader(header);
	if (pinned === null) return refuse("UNSUPPORTED_HEADER");
	const key = keys.get(pinned.kid);
	if (key === undefined) return refuse("UNKNOWN_KEY");
	if (!(await verifySignature(key, jws, verifier))) return refuse("BAD_SIGNATURE");
	const claims = readClaims(parseJsonBytes(jws.payload));
	if (claims === null) return refuse("MALFORMED");
	const failure = checkClaims(claims, opts);
	if (failure !== null) return refuse(failure);
	return { ok: true, claims, kid: pinned.kid };
}

/**
 * Reads a token's claims WITHOUT verifying anything, for display only ("this token was for
 * plan X, expired on Y"). Never base a decision on the result: anyone can forge it. Returns
 * null for anything that does not look like a license token.
 */
export function decodeLicenseTokenUnverified(token: string): LicenseTokenClaims | null {
	const jws = splitCompactJws(token);
	return jws === null ? null : readClaims(parseJsonBytes(jws.payload));
}
