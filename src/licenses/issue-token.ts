import type { Config } from "../config";
import { evaluateLicense } from "../kernel/rules";
import { licenseTokenClaims } from "../kernel/token/claims";
import { signLicenseToken } from "../kernel/token/sign";
import type { LicenseRow } from "./queries";

/** A signed token for one machine of a usable license. */
export async function issueLicenseToken(
	config: Config,
	license: LicenseRow,
	hardwareId: string,
	at: Date,
	seat?: { org: string; seat: string },
): Promise<string> {
	const { usableUntil } = evaluateLicense(license, at);
	const claims = licenseTokenClaims({
		issuer: config.issuer,
		licenseId: license.id,
		hardwareId,
		lic: {
			plan: license.planId,
			status: license.status,
			expires_at: license.expiresAt?.toISOString() ?? null,
			max_activations: license.maxActivations,
			entitlements: license.entitlements.features,
		},
		// A token never outlives the paid period or the payment grace.
		licenseExpiresAt: usableUntil,
		seat,
		now: at,
	});
	return signLicenseToken(config.signingKey, claims);
}
