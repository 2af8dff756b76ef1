/**
 * Inside a CI job run by `coditect ci run`, the lease token licenses the job: verified with the
 * same pinned keys as a license token, no hardware id (runners are throwaway), no files written
 * and no network (the heartbeats of `ci run` keep the token fresh in CODITECT_CI_TOKEN_FILE).
 */
import { readFileSync } from "node:fs";
import { verifyCiTokenWith } from "../../src/kernel/token/ci";
import type { VerifyFailure } from "../../src/kernel/token/verify";
import type { CliConfig } from "../config";
import type { LicenseCheck, LicenseCode } from "../lib-types";
import { nodeVerifier } from "../node-crypto";
import { trustedKeys } from "./keys";
import { result } from "./verdict";

/** The lease token handed down by `ci run`, the file first (heartbeats rewrite it). */
export function ciLeaseToken(env: NodeJS.ProcessEnv = process.env): string | null {
	const file = env.CODITECT_CI_TOKEN_FILE;
	if (file) {
		try {
			const token = readFileSync(file, "utf8").trim();
			if (token) return token;
		} catch {
			// A file gone with its job: fall back to the variable.
		}
	}
	return env.CODITECT_CI_TOKEN?.trim() || null;
}

const FAILURES: Partial<Record<VerifyFailure, LicenseCode>> = {
	EXPIRED: "GRACE_EXPIRED",
	ISSUED_IN_FUTURE: "CLOCK_BEHIND",
	NOT_YET_VALID: "CLOCK_BEHIND",
	UNKNOWN_KEY: "UNKNOWN_KEY",
	WRONG_ISSUER: "FOREIGN_LICENSE",
};

const MESSAGES: Partial<Record<LicenseCode, string>> = {
	GRACE_EXPIRED:
		"The CI lease has expired: the job outlived it or `coditect ci run` stopped renewing it. Run the job under `coditect ci run -- …`.",
	CLOCK_BEHIND: "The CI lease was issued later than this runner's clock says: the clock is wrong.",
	UNKNOWN_KEY: "The CI lease was signed with a key this CLI does not know. Update coditect.",
	FOREIGN_LICENSE: "The CI lease comes from another license server than this CLI is set up for.",
	INVALID_TOKEN: "The CI lease token (CODITECT_CI_TOKEN) is damaged or not a CODITECT lease.",
};

export async function checkCiLease(
	config: CliConfig,
	token: string,
	nowMs: number,
): Promise<LicenseCheck> {
	const keys = await trustedKeys(config.home, config.apiUrl);
	const verdict = await verifyCiTokenWith(token, keys, nodeVerifier, {
		now: new Date(nowMs),
		issuer: config.apiUrl,
	});
	if (!verdict.ok) {
		const code = FAILURES[verdict.reason] ?? "INVALID_TOKEN";
		return result({ code, message: MESSAGES[code] ?? "The CI lease is not usable." });
	}
	const { claims } = verdict;
	const pastDue = claims.lic.status === "past_due";
	return result({
		licensed: true,
		code: pastDue ? "PAST_DUE" : "VALID",
		plan: claims.lic.plan,
		expires_at: claims.lic.expires_at,
		grace_remaining_s: Math.max(0, claims.exp - Math.floor(nowMs / 1000)),
		status: claims.lic.status,
		license_id: claims.sub,
		token_expires_at: new Date(claims.exp * 1000).toISOString(),
		message: `Licensed for CI job ${claims.ci.job} (lease ${claims.ci.lease}, org ${claims.ci.org}).`,
	});
}
