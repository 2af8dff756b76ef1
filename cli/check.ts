/**
 * The offline-first license check behind `coditect license status` and `checkLicense()`.
 *
 * Hot path (fresh token, < 24 h old): read license.json and last-seen, verify the token
 * with the pinned keys, move last-seen forward. No network, no child process, nothing
 * heavy imported. Online work lives in online.ts and is imported only when needed.
 */
import { MAX_CLOCK_SKEW_S } from "../src/kernel/token/claims";
import { type VerifyFailure, verifyLicenseTokenWith } from "../src/kernel/token/verify";
import { type CliConfig, resolveConfig } from "./config";
import { CliError } from "./errors";
import { resolveHardwareId } from "./fingerprint";
import { trustedKeys } from "./keys";
import type { CheckLicenseOptions, LicenseCheck, LicenseCode } from "./lib-types";
import { nodeVerifier } from "./node-crypto";
import {
	advanceLastSeen,
	type HomePaths,
	homePaths,
	readLastSeen,
	readLicenseFile,
	type StoredLicense,
} from "./store";

export type { CheckLicenseOptions, LicenseCheck, LicenseCode };

/** After this age a valid token is refreshed (in the background); SPEC §5. */
export const REVALIDATE_AFTER_S = 24 * 3600;

export interface CheckContext {
	config: CliConfig;
	paths: HomePaths;
	hardwareId: string;
	nowMs: number;
}

const TIME_FORMAT = (seconds: number): string => new Date(seconds * 1000).toISOString();

function result(
	partial: Partial<LicenseCheck> & Pick<LicenseCheck, "code" | "message">,
): LicenseCheck {
	return {
		licensed: false,
		plan: null,
		expires_at: null,
		grace_remaining_s: 0,
		offline: true,
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
		"This machine is not activated. Run `coditect activate <KEY>`, or `coditect login` then `coditect activate`.",
	INVALID_TOKEN:
		"The stored license is damaged or was altered. Run `coditect license status --online` to fetch a fresh one, or `coditect activate <KEY>`.",
	FOREIGN_LICENSE:
		"The stored license belongs to another license server. Run `coditect activate <KEY>` against this one.",
	WRONG_HARDWARE:
		"The stored license was issued to another machine. Run `coditect activate <KEY>` on this machine.",
	CLOCK_ROLLBACK:
		"The system clock is more than 5 minutes behind the last time CODITECT ran. Correct the date and time, then run again.",
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
}

/** Verifies the cached license without any network I/O. Never throws for a bad cache. */
export async function verifyLocal(ctx: CheckContext): Promise<LocalVerdict> {
	const { config, paths, hardwareId, nowMs } = ctx;
	const file = readLicenseFile(paths);
	if (file.kind === "missing") {
		return {
			check: result({ code: "NOT_ACTIVATED", message: MESSAGES.NOT_ACTIVATED }),
			stored: null,
			ageS: 0,
		};
	}
	if (file.kind === "corrupt") {
		return {
			check: result({ code: "INVALID_TOKEN", message: MESSAGES.INVALID_TOKEN }),
			stored: null,
			ageS: 0,
		};
	}
	const stored = file.license;
	const base = {
		license_id: stored.license_id,
		last_online_at: TIME_FORMAT(stored.last_online_at),
	};
	if (stored.api_url !== config.apiUrl) {
		return {
			check: result({ ...base, code: "FOREIGN_LICENSE", message: MESSAGES.FOREIGN_LICENSE }),
			stored: null,
			ageS: 0,
		};
	}
	if (stored.token === null) {
		return {
			check: result({ ...base, code: "NOT_ACTIVATED", message: MESSAGES.NOT_ACTIVATED }),
			stored,
			ageS: 0,
		};
	}
	const keys = await trustedKeys(config.home, config.apiUrl);
	const verified = await verifyLicenseTokenWith(stored.token, keys, nodeVerifier, {
		now: new Date(nowMs),
		hardwareId,
		issuer: config.apiUrl,
	});
	if (!verified.ok) {
		const code = codeForFailure(verified.reason);
		return { check: result({ ...base, code, message: MESSAGES[code] }), stored, ageS: 0 };
	}
	const claims = verified.claims;
	const lastSeen = readLastSeen(paths);
	if (lastSeen !== null && nowMs < lastSeen - MAX_CLOCK_SKEW_S * 1000) {
		return {
			check: result({ ...base, code: "CLOCK_ROLLBACK", message: MESSAGES.CLOCK_ROLLBACK }),
			stored,
			ageS: 0,
		};
	}
	if (lastSeen === null) {
		// Deleting last-seen would defeat the rollback check, so a missing one costs an online check.
		return {
			check: result({ ...base, code: "INVALID_TOKEN", message: MESSAGES.INVALID_TOKEN }),
			stored,
			ageS: 0,
		};
	}
	advanceLastSeen(paths, nowMs, lastSeen);
	const nowS = nowMs / 1000;
	const pastDue = claims.lic.status === "past_due";
	return {
		check: result({
			...base,
			licensed: true,
			code: pastDue ? "PAST_DUE" : "VALID",
			plan: claims.lic.plan,
			status: claims.lic.status,
			expires_at: claims.lic.expires_at,
			grace_remaining_s: Math.max(0, Math.floor(claims.exp - nowS)),
			token_expires_at: TIME_FORMAT(claims.exp),
			message: pastDue
				? "Licensed, but the last payment failed: update the payment method to keep the license."
				: `Licensed (${claims.lic.plan}).`,
		}),
		stored,
		ageS: Math.max(0, nowS - claims.iat),
	};
}

/** Builds the context; a configuration problem becomes a result, not an exception. */
export function checkContext(
	options: CheckLicenseOptions,
): { ok: true; ctx: CheckContext } | { ok: false; check: LicenseCheck } {
	try {
		const config = resolveConfig({ apiUrl: options.apiUrl, home: options.home });
		const hardwareId = resolveHardwareId(config).id;
		return {
			ok: true,
			ctx: { config, paths: homePaths(config.home), hardwareId, nowMs: Date.now() },
		};
	} catch (err) {
		if (err instanceof CliError) {
			const code: LicenseCode = err.code === "NO_HARDWARE_ID" ? "NO_HARDWARE_ID" : "MISCONFIGURED";
			return { ok: false, check: result({ code, message: err.message }) };
		}
		throw err;
	}
}

/**
 * The license check (SPEC §5). With a fresh token it does no network I/O; a token over
 * 24 h old is refreshed by a detached background process, so start-up never waits on the
 * network while the offline grace lasts.
 */
export async function runLicenseCheck(options: CheckLicenseOptions = {}): Promise<LicenseCheck> {
	const prepared = checkContext(options);
	if (!prepared.ok) return prepared.check;
	const { ctx } = prepared;
	const online = options.online ?? "auto";
	const local = await verifyLocal(ctx);
	const { code } = local.check;
	if (local.check.licensed) {
		if (online === "always") {
			const { revalidate } = await import("./online");
			return revalidate(ctx, local);
		}
		if (local.ageS >= REVALIDATE_AFTER_S && online === "auto") {
			const { startBackgroundRefresh } = await import("./refresh");
			const started = startBackgroundRefresh(ctx, options.refreshCommand);
			return { ...local.check, revalidation: started ? "background" : "skipped" };
		}
		return local.check;
	}
	// A wrong clock cannot be fixed by asking the server: its fresh token would look just as wrong.
	if (online === "never" || code === "CLOCK_ROLLBACK" || code === "CLOCK_BEHIND") {
		return local.check;
	}
	const { revalidate } = await import("./online");
	return revalidate(ctx, local);
}
