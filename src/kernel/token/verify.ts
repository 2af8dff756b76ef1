/**
 * Verifying a license token (docs/license-token.md), in the oslo order: parse → pin the
 * header → our key by `kid` → signature → claims. Every refusal is a result, never a throw.
 */
import { encodeUtf8 } from "../base64url";
import {
	LICENSE_TOKEN_AUDIENCE,
	LICENSE_TOKEN_TYPE,
	type LicenseTokenClaims,
	MAX_CLOCK_SKEW_S,
	readClaims,
} from "./claims";
import {
	type CompactJws,
	isJsonObject,
	type JsonObject,
	JWS_ALGORITHM,
	parseJsonBytes,
	splitCompactJws,
} from "./jws";
import {
	ED25519_SIGNATURE_BYTES,
	type PublicKeySet,
	type SignatureVerifier,
	webCryptoVerifier,
} from "./keys";

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

function isNonEmptyString(value: unknown): value is string {
	return typeof value === "string" && value.length > 0;
}

const ALLOWED_HEADER_MEMBERS: ReadonlySet<string> = new Set(["alg", "typ", "kid"]);

/**
 * Pins the header to exactly the members we sign with. Anything else — `jku`, `jwk`, `x5u`,
 * `x5c` (keys supplied by the token), `crit` or `b64` (changed processing rules) — is
 * refused rather than ignored: our signer never emits them, so their presence means the
 * token was not made by us, and refusing cannot be gotten wrong by a later edit.
 */
function checkHeader(header: JsonObject, typ: string): { kid: string } | null {
	for (const member of Object.keys(header)) {
		if (!ALLOWED_HEADER_MEMBERS.has(member)) return null;
	}
	if (header.alg !== JWS_ALGORITHM || header.typ !== typ) return null;
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

function refuse(reason: VerifyFailure): { ok: false; reason: VerifyFailure } {
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
	const signed = await verifySignedPayload(token, LICENSE_TOKEN_TYPE, keys, verifier);
	if (!signed.ok) return signed;
	const claims = readClaims(signed.payload);
	if (claims === null) return refuse("MALFORMED");
	const failure = checkClaims(claims, opts);
	if (failure !== null) return refuse(failure);
	return { ok: true, claims, kid: signed.kid };
}

/**
 * The steps every token type shares, in order: length cap and parse → header pinned to
 * `alg: "EdDSA"`, exactly `typ` and a `kid`, nothing else → key by `kid` from `keys` only →
 * Ed25519 signature. Returns the still unchecked payload; claims are the caller's.
 */
export async function verifySignedPayload<K>(
	token: string,
	typ: string,
	keys: ReadonlyMap<string, K>,
	verifier: SignatureVerifier<K>,
): Promise<{ ok: true; payload: unknown; kid: string } | { ok: false; reason: VerifyFailure }> {
	const jws = splitCompactJws(token);
	if (jws === null) return refuse("MALFORMED");
	const header = parseJsonBytes(jws.header);
	if (!isJsonObject(header)) return refuse("MALFORMED");
	const pinned = checkHeader(header, typ);
	if (pinned === null) return refuse("UNSUPPORTED_HEADER");
	const key = keys.get(pinned.kid);
	if (key === undefined) return refuse("UNKNOWN_KEY");
	if (!(await verifySignature(key, jws, verifier))) return refuse("BAD_SIGNATURE");
	return { ok: true, payload: parseJsonBytes(jws.payload), kid: pinned.kid };
}
