import type { Config } from "../config";
import { evaluateLicense } from "../kernel/rules";
import { licenseTokenClaims } from "../kernel/token/claims";
import { offlineTokenClaims } from "../kernel/token/offline";
import { signLicenseToken, signLicenseTokenAtOnce } from "../kernel/token/sign";
import type { LicenseRow } from "./queries";

/** The `lic` claim: what a verifier needs to know of the license, online and offline alike. */
function licClaim(license: LicenseRow) {
	return {
		plan: license.planId,
		status: license.status,
		expires_at: license.expiresAt?.toISOString() ?? null,
		max_activations: license.maxActivations,
		entitlements: license.entitlements.features,
	};
}

/**
 * A signed token for one machine of a usable license: the token itself where the key signs
 * synchronously (Node), else the signer's promise as it is (an async wrapper would add a
 * promise and turns of the queue to validate's hot path). `await` takes either.
 */
export function issueLicenseToken(
	config: Config,
	license: LicenseRow,
	hardwareId: string,
	at: Date,
	seat?: { org: string; seat: string },
): string | Promise<string> {
	const { usableUntil } = evaluateLicense(license, at);
	const claims = licenseTokenClaims({
		issuer: config.issuer,
		licenseId: license.id,
		hardwareId,
		lic: licClaim(license),
		// A token never outlives the paid period or the payment grace.
		licenseExpiresAt: usableUntil,
		seat,
		now: at,
	});
	return signLicenseTokenAtOnce(config.signingKey, claims);
}

/**
 * A signed offline token (src/kernel/token/offline.ts) for an air-gapped machine: valid until
 * the license's usable end or a year, bound to the request's nonce. No seat claims: an offline
 * machine counts against the license, not a member's seat (docs/offline-activation.md).
 */
export async function issueOfflineLicenseToken(
	config: Config,
	license: LicenseRow,
	hardwareId: string,
	nonce: string,
	at: Date,
): Promise<string> {
	const { usableUntil } = evaluateLicense(license, at);
	const claims = offlineTokenClaims({
		issuer: config.issuer,
		licenseId: license.id,
		hardwareId,
		nonce,
		lic: licClaim(license),
		licenseExpiresAt: usableUntil,
		now: at,
	});
	return signLicenseToken(config.signingKey, claims);
}
