/**
 * CI lease tokens: what a CI job holds while it occupies one of its org's runner slots. Same
 * key, `kid` and verification discipline as license tokens, but their own `typ` and `aud`, so
 * neither kind ever passes for the other. No `hwid`: a CI runner is ephemeral; the token is
 * bound to the job and lease instead, and lives no longer than the lease (≤ 1 h).
 */
import { encodeBase64Url } from "../base64url";
import { MAX_CLOCK_SKEW_S } from "./claims";
import { isJsonObject } from "./jws";
import { type SignatureVerifier, webCryptoVerifier } from "./keys";
import { type VerifyFailure, verifySignedPayload } from "./verify";

export const CI_TOKEN_TYPE = "coditect-ci+jwt";
export const CI_TOKEN_AUDIENCE = "coditect-ci";
/** A lease lasts 15 minutes unless the job asks otherwise; heartbeats extend it. */
export const CI_LEASE_DEFAULT_TTL_S = 15 * 60;
export const CI_LEASE_MIN_TTL_S = 60;
/** No lease token outlives an hour: a dead runner's slot comes back within that, at worst. */
export const CI_LEASE_MAX_TTL_S = 3600;

export interface CiTokenClaims {
	iss: string;
	aud: string;
	/** The org's license id (`lic_…`). */
	sub: string;
	jti: string;
	iat: number;
	nbf: number;
	/** The lease's own end: the token and the slot expire together. */
	exp: number;
	ci: { org: string; job: string; lease: string };
	lic: { plan: string; status: string; expires_at: string | null; entitlements: string[] };
}

const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const isSeconds = (v: unknown): v is number =>
	typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Claims for a lease ending at `leaseExpiresAt` (rounded down to the second). Throws
 * `RangeError` when that is not between now and now + 1 h: issuing would be a bug upstream.
 */
export function ciTokenClaims(input: {
	issuer: string;
	licenseId: string;
	ci: CiTokenClaims["ci"];
	lic: CiTokenClaims["lic"];
	leaseExpiresAt: Date;
	now?: Date;
}): CiTokenClaims {
	const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
	const exp = Math.floor(input.leaseExpiresAt.getTime() / 1000);
	if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) {
		throw new RangeError("ci token times are not valid dates");
	}
	if (exp <= iat || exp > iat + CI_LEASE_MAX_TTL_S + MAX_CLOCK_SKEW_S) {
		throw new RangeError("a ci token must end after now and within an hour");
	}
	return {
		iss: input.issuer,
		aud: CI_TOKEN_AUDIENCE,
		sub: input.licenseId,
		jti: encodeBase64Url(crypto.getRandomValues(new Uint8Array(16))),
		iat,
		nbf: iat,
		exp,
		ci: { org: input.ci.org, job: input.ci.job, lease: input.ci.lease },
		lic: {
			plan: input.lic.plan,
			status: input.lic.status,
			expires_at: input.lic.expires_at,
			entitlements: [...input.lic.entitlements],
		},
	};
}

/** Shape check; a fresh copy with only the known claims in a fixed order, or null. */
export function readCiClaims(value: unknown): CiTokenClaims | null {
	if (!isJsonObject(value)) return null;
	const { iss, aud, sub, jti, iat, nbf, exp, ci, lic } = value;
	if (!isText(iss) || typeof aud !== "string" || !isText(sub) || !isText(jti)) return null;
	if (!isSeconds(iat) || !isSeconds(nbf) || !isSeconds(exp)) return null;
	if (!isJsonObject(ci) || !isText(ci.org) || !isText(ci.job) || !isText(ci.lease)) return null;
	if (!isJsonObject(lic) || typeof lic.plan !== "string" || typeof lic.status !== "string") {
		return null;
	}
	if (lic.expires_at !== null && typeof lic.expires_at !== "string") return null;
	if (!Array.isArray(lic.entitlements) || !lic.entitlements.every((e) => typeof e === "string")) {
		return null;
	}
	return {
		iss,
		aud,
		sub,
		jti,
		iat,
		nbf,
		exp,
		ci: { org: ci.org, job: ci.job, lease: ci.lease },
		lic: {
			plan: lic.plan,
			status: lic.status,
			expires_at: lic.expires_at,
			entitlements: [...(lic.entitlements as string[])],
		},
	};
}

export type CiVerifyResult =
	| { ok: true; claims: CiTokenClaims; kid: string }
	| { ok: false; reason: VerifyFailure };

/**
 * Verifies a CI lease token against our own key set, in the license token's order: parse →
 * header pinned (`EdDSA`, `coditect-ci+jwt`, `kid`) → our key by `kid` → signature → claims
 * (`aud`, `iss` if given, `iat`/`nbf` at most 5 minutes ahead, `exp` after now, and a lifetime
 * of at most an hour). Never throws for a bad token.
 */
export async function verifyCiTokenWith<K>(
	token: string,
	keys: ReadonlyMap<string, K>,
	verifier: SignatureVerifier<K>,
	opts: { now?: Date; issuer?: string } = {},
): Promise<CiVerifyResult> {
	const signed = await verifySignedPayload(token, CI_TOKEN_TYPE, keys, verifier);
	if (!signed.ok) return signed;
	const claims = readCiClaims(signed.payload);
	if (claims === null) return { ok: false, reason: "MALFORMED" };
	const now = (opts.now ?? new Date()).getTime() / 1000;
	const fail = (reason: VerifyFailure): CiVerifyResult => ({ ok: false, reason });
	if (claims.aud !== CI_TOKEN_AUDIENCE) return fail("WRONG_AUDIENCE");
	if (opts.issuer !== undefined && claims.iss !== opts.issuer) return fail("WRONG_ISSUER");
	if (!(claims.iat <= now + MAX_CLOCK_SKEW_S)) return fail("ISSUED_IN_FUTURE");
	if (!(claims.nbf <= now + MAX_CLOCK_SKEW_S)) return fail("NOT_YET_VALID");
	if (!(claims.exp > now)) return fail("EXPIRED");
	// Our signer never issues longer ones; a longer one means a bug or a stolen key.
	if (!(claims.exp - claims.iat <= CI_LEASE_MAX_TTL_S + MAX_CLOCK_SKEW_S)) return fail("MALFORMED");
	return { ok: true, claims, kid: signed.kid };
}

/** `verifyCiTokenWith` on WebCrypto. */
export async function verifyCiToken(
	token: string,
	keys: ReadonlyMap<string, CryptoKey>,
	opts: { now?: Date; issuer?: string } = {},
): Promise<CiVerifyResult> {
	return verifyCiTokenWith(token, keys, webCryptoVerifier, opts);
}
