/**
 * Air-gapped (offline) license tokens: the same JWS and claims as today's token, but issued
 * for a machine that never reaches the server, so `exp` is the license's own end (capped at
 * a year, so a perpetual license still needs a fresh file once a year) instead of 72 hours,
 * and the token says `offline: true` plus the nonce of the request it answers.
 */
import { type LicenseTokenClaims, licenseTokenClaims } from "./claims";

/** The longest an offline token lives: one year. */
export const OFFLINE_TOKEN_MAX_TTL_S: number = 365 * 24 * 3600;

/** True for a token issued to an air-gapped machine. */
export function isOfflineToken(claims: LicenseTokenClaims): boolean {
	return claims.offline === true;
}

/**
 * Builds the claims of an offline token: `exp` = the license's end or now + 1 year, whichever
 * is first. Throws `RangeError` if the license has already ended or the nonce is empty.
 */
export function offlineTokenClaims(input: {
	issuer: string;
	licenseId: string;
	hardwareId: string;
	nonce: string;
	lic: LicenseTokenClaims["lic"];
	licenseExpiresAt: Date | null;
	seat?: { org: string; seat: string } | undefined;
	now?: Date;
}): LicenseTokenClaims {
	if (input.nonce.length === 0) throw new RangeError("an offline token needs the request's nonce");
	const base = licenseTokenClaims(input);
	const cap = base.iat + OFFLINE_TOKEN_MAX_TTL_S;
	const end =
		input.licenseExpiresAt === null
			? cap
			: Math.min(cap, Math.floor(input.licenseExpiresAt.getTime() / 1000));
	const { lic, ...rest } = base;
	return { ...rest, exp: end, offline: true, nonce: input.nonce, lic };
}
