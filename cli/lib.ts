/**
 * The client library (docs/api.md §5): what the CODITECT tool calls at start-up.
 *
 * ```ts
 * import { checkLicense } from "coditect";
 * const license = await checkLicense();
 * if (!license.licensed) { console.error(license.message); process.exit(2); }
 * ```
 *
 * With a fresh token (< 24 h) it reads two small files and verifies one signature: no
 * network I/O. It never throws for a bad cache or configuration: the result says why.
 */

import type { CheckLicenseOptions, LicenseCheck, LicenseCode } from "./lib-types";
import { runLicenseCheck } from "./license/check";

export type { CheckLicenseOptions, LicenseCheck, LicenseCode };

export function checkLicense(options: CheckLicenseOptions = {}): Promise<LicenseCheck> {
	return runLicenseCheck(options);
}
