/**
 * The local verdict: what the cached license says without any network I/O. This is the hot
 * path of every start (read license.json and last-seen, verify one signature), so it imports
 * nothing heavy; online work lives in revalidate.ts.
 */
import { type LicenseTokenClaims, MAX_CLOCK_SKEW_S } from "../../src/kernel/token/claims";
import { isOfflineToken } from "../../src/kernel/token/offline";
import { type VerifyFailure, verifyLicenseTokenWith } from "../../src/kernel/token/verify";
import { apiUrlSetting } from "../config";
import type { LicenseCheck, LicenseCode } from "../lib-types";
import { nodeVerifier } from "../node-crypto";
import type { CheckContext } from "./context";
import { trustedKeys } from "./keys";
import { advanceLastSeen, readLastSeen, readLicenseFile, type StoredLicense } from "./store";

const TIME_FORMAT = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** A LicenseCheck with the fields a refusal leaves empty. */
export function result(
	partial: Partial<LicenseCheck> & Pick<LicenseCheck, "code" | "message">,
): LicenseCheck {
	return {
		licensed: false,
		plan: null,
		expires_at: null,
		grace_remaining_s: 0,
		offline: true,
		offline_license: false,
		status: null,
		license_id: null,
		token_expires_at: null,
		last_online_at: null,
		revalidation: "not_needed",
		network_error: null,
		...partial,
	};
}

const MESSAGES: Record<Exclude<LicenseCode, "VALID">, string> = {
	NOT_ACTIVATED:
		"This machine is not activated. Run `coditect activate KEY`, or `coditect login` then `coditect activate`.",
	INVALID_TOKEN:
		"The stored license is damaged or was altered. Run `coditect license status --online` to fetch a fresh one, or `coditect activate KEY`.",
	FOREIGN_LICENSE:
		"The stored license belongs to another license server. Run `coditect activate KEY` against this one.",
	WRONG_HARDWARE:
		"The stored license was issued to another machine. Run `coditect activate KEY` on this machine.",
	CLOCK_ROLLBACK:
		"The system clock is more than 5 minutes behind the last time CODITECT ran. Correct the date and time, then run again; if the clock is right, run `coditect license status --online` to take the time from the license server.",
	CLOCK_BEHIND:
		"The license was issued later than this machine's current time: the clock is wrong. Correct the date and time, then run again.",
	GRACE_EXPIRED:
		"The 72-hour offline grace has ended. Connect to the internet and run `coditect license status --online`.",
	UNKNOWN_KEY:
		"The stored license was signed with a key this CLI does not know. Update coditect (`npm i -g coditect`) or run `coditect license status --online`.",
	NOT_FOUND: "The license key is not known to the server. Check the key or contact support.",
	EXPIRED:
		"The license has expired. Renew the subscription (`coditect upgrade`) to keep using CODITECT.",
	// Unlicensed PAST_DUE only: in the grace the check is licensed and says so itself (below).
	PAST_DUE:
		"The last payment for this license failed and the payment grace period has ended. Update the payment method in the billing portal (the link is in Stripe's payment-failed email), then run `coditect license status --online`.",
	SUSPENDED: "The license is suspended. Contact support.",
	REVOKED: "The license has been revoked. Contact support or buy a new one (`coditect upgrade`).",
	NO_HARDWARE_ID:
		"Could not read this machine's id. In containers and CI set CODITECT_HARDWARE_ID to a stable, unique value.",
	MISCONFIGURED: "The CLI configuration is invalid.",
};

const NEW_REQUEST =
	"Run `coditect activate --offline-request --license ID` and have an administrator upload the request for a new license file.";
/** Air-gapped licenses (docs/offline-activation.md): no online check can help them. */
const OFFLINE_MESSAGES: Partial<Record<LicenseCode, string>> = {
	EXPIRED: `The offline license has ended (the license's end, or a year after it was issued). ${NEW_REQUEST}`,
	CLOCK_ROLLBACK:
		"The system clock is more than 5 minutes behind the last time CODITECT ran. Correct the date and time, then run again.",
	CLOCK_BEHIND:
		"The offline license was issued later than this machine's current time: the clock is wrong. Correct the date and time, then run again.",
};
const OFFLINE_UNUSABLE = (code: LicenseCode): string =>
	`The stored offline license cannot be used on this machine (${code}). ${NEW_REQUEST}`;

export function messageFor(code: LicenseCode): string {
	return code === "VALID" ? "" : MESSAGES[code];
}

function codeForFailure(reason: VerifyFailure): Exclude<LicenseCode, "VALID" | "PAST_DUE"> {
	switch (reason) {
		case "EXPIRED":
			return "GRACE_EXPIRED";
		case "ISSUED_IN_FUTURE":
		case "NOT_YET_VALID":
			return "CLOCK_BEHIND";
		case "WRONG_HARDWARE":
			return "WRONG_HARDWARE";
		case "WRONG_ISSUER":
			return "FOREIGN_LICENSE";
		case "UNKNOWN_KEY":
			return "UNKNOWN_KEY";
		default:
			return "INVALID_TOKEN";
	}
}

export interface LocalVerdict {
	check: LicenseCheck;
	/** The parsed license.json, when there is one (even if its token failed). */
	stored: StoredLicense | null;
	/** Token age in seconds when licensed. */
	ageS: number;
	/** For FOREIGN_LICENSE: the server license.json names. */
	recordedApiUrl?: string;
}

/** The verdict for a token whose signature and claims are verified, at `nowMs`. */
export function licensedVerdict(
	claims: LicenseTokenClaims,
	stored: StoredLicense,
	nowMs: number,
): LocalVerdict {
	const nowS = nowMs / 1000;
	const pastDue = claims.lic.status === "past_due";
	const airGapped = isOfflineToken(claims);
	return {
		check: result({
			license_id: stored.license_id,
			last_online_at: TIME_FORMAT(stored.last_online_at),
			licensed: true,
			code: pastDue ? "PAST_DUE" : "VALID",
			plan: claims.lic.plan,
			status: claims.lic.status,
			expires_at: claims.lic.expires_at,
			grace_remaining_s: Math.max(0, Math.floor(claims.exp - nowS)),
			token_expires_at: TIME_FORMAT(claims.exp),
			offline_license: airGapped,
			message: pastDue
				? "Licensed, but the last payment failed: update the payment method to keep the license."
				: airGapped
					? `Licensed (${claims.lic.plan}), offline license until ${TIME_FORMAT(claims.exp)}.`
					: `Licensed (${claims.lic.plan}).`,
		}),
		stored,
		ageS: Math.max(0, nowS - claims.iat),
	};
}

/** Verifies the cached license without any network I/O. Never throws for a bad cache. */
export async function verifyLocal(ctx: CheckContext): Promise<LocalVerdict> {
	const { config, paths, hardwareId, nowMs } = ctx;
	const refused = (
		code: Exclude<LicenseCode, "VALID" | "PAST_DUE">,
		stored: StoredLicense | null,
		keep = true,
	): LocalVerdict => ({
		check: result({
			code,
			message: MESSAGES[code],
			...(stored
				? { license_id: stored.license_id, last_online_at: TIME_FORMAT(stored.last_online_at) }
				: {}),
		}),
		stored: keep ? stored : null,
		ageS: 0,
	});
	/** An air-gapped license cannot be repaired online: its refusals say what can be done. */
	const refusedOffline = (
		code: Exclude<LicenseCode, "VALID" | "PAST_DUE">,
		stored: StoredLicense,
	): LocalVerdict => {
		const verdict = refused(code, stored);
		if (stored.source !== "offline") return verdict;
		verdict.check.offline_license = true;
		verdict.check.message = OFFLINE_MESSAGES[code] ?? OFFLINE_UNUSABLE(code);
		return verdict;
	};
	const file = readLicenseFile(paths);
	if (file.kind === "missing") return refused("NOT_ACTIVATED", null);
	if (file.kind === "corrupt") return refused("INVALID_TOKEN", null);
	const stored = file.license;
	// Another server's license is reported, never revalidated here: keep `stored` out of reach.
	if (stored.api_url !== config.apiUrl) {
		const foreign = refused("FOREIGN_LICENSE", stored, false);
		foreign.check.message = `The stored license was issued by ${stored.api_url}, but this check asks ${config.apiUrl} (from ${apiUrlSetting(config.sources.apiUrl)}). Pass \`--api-url ${stored.api_url}\`, or run \`coditect activate\` against ${config.apiUrl}.`;
		return { ...foreign, recordedApiUrl: stored.api_url };
	}
	if (stored.token === null) return refused("NOT_ACTIVATED", stored);
	const keys = await trustedKeys(config.home, config.apiUrl);
	const verified = await verifyLicenseTokenWith(stored.token, keys, nodeVerifier, {
		now: new Date(nowMs),
		hardwareId,
		issuer: config.apiUrl,
	});
	if (!verified.ok) {
		// An offline license ends with its file, not a grace: a new request gets a new one.
		if (stored.source === "offline" && verified.reason === "EXPIRED") {
			return refusedOffline("EXPIRED", stored);
		}
		return refusedOffline(codeForFailure(verified.reason), stored);
	}
	const lastSeen = readLastSeen(paths);
	if (lastSeen !== null && nowMs < lastSeen - MAX_CLOCK_SKEW_S * 1000) {
		return refusedOffline("CLOCK_ROLLBACK", stored);
	}
	// Deleting last-seen would defeat the rollback check, so a missing one costs an online check.
	if (lastSeen === null) return refusedOffline("INVALID_TOKEN", stored);
	advanceLastSeen(paths, nowMs, lastSeen);
	return licensedVerdict(verified.claims, stored, nowMs);
}
