/**
 * License token claims (docs/license-token.md): what a token says, how a new one is built,
 * and the shape check every signer and verifier runs.
 */
import { encodeBase64Url } from "../base64url";
import { randomBytes } from "../random-bytes";
import { isJsonObject, parseJsonBytes, splitCompactJws } from "./jws";

/** The JWS `typ` header: pinned on verification so no other JWT passes as a license. */
export const LICENSE_TOKEN_TYPE = "coditect-license+jwt";
/** The `aud` claim every license token carries and every verifier demands. */
export const LICENSE_TOKEN_AUDIENCE = "coditect-cli";
/** Token lifetime, which is also the CLI's offline grace: 72 hours. */
export const LICENSE_TOKEN_TTL_S: number = 72 * 3600;
/** How far in the future `iat`/`nbf` may lie before a token is refused (5 minutes). */
export const MAX_CLOCK_SKEW_S = 300;

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
	/** Org licenses only: the organisation (`org_…`) and the member's seat (`seat_…`). */
	org?: string;
	seat?: string;
	/** Air-gapped licenses only (src/kernel/token/offline.ts): always `true`, with the request's nonce. */
	offline?: true;
	nonce?: string;
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

function isNonEmptyString(value: unknown): value is string {
	return typeof value === "string" && value.length > 0;
}

function isSeconds(value: unknown): value is number {
	return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function randomJti(): string {
	return encodeBase64Url(randomBytes(16));
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
	/** The seat an org license's machine is counted against. */
	seat?: { org: string; seat: string } | undefined;
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
		...(input.seat ? { org: input.seat.org, seat: input.seat.seat } : {}),
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
export function readClaims(value: unknown): LicenseTokenClaims | null {
	if (!isJsonObject(value)) return null;
	const { iss, aud, sub, jti, iat, nbf, exp, hwid } = value;
	if (!isNonEmptyString(iss) || typeof aud !== "string" || !isNonEmptyString(sub)) return null;
	if (!isNonEmptyString(jti) || !isNonEmptyString(hwid)) return null;
	if (!isSeconds(iat) || !isSeconds(nbf) || !isSeconds(exp)) return null;
	const lic = readLic(value.lic);
	if (lic === null) return null;
	const { org, seat, offline, nonce } = value;
	// Both or neither: an offline token always names the request's nonce, and only it does.
	let air: { offline: true; nonce: string } | Record<string, never> = {};
	if (offline !== undefined || nonce !== undefined) {
		if (offline !== true || !isNonEmptyString(nonce)) return null;
		air = { offline: true, nonce };
	}
	if (org === undefined && seat === undefined)
		return { iss, aud, sub, jti, iat, nbf, exp, hwid, ...air, lic };
	// Both or neither: a seat means nothing without its org.
	if (!isNonEmptyString(org) || !isNonEmptyString(seat)) return null;
	return { iss, aud, sub, jti, iat, nbf, exp, hwid, org, seat, ...air, lic };
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
