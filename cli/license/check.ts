/**
 * The offline-first license check behind `coditect license status` and `checkLicense()`.
 *
 * Hot path (fresh token, < 24 h old): the local verdict and nothing else. No network, no
 * child process; revalidate.ts and refresh.ts are imported only when needed.
 */
import { normalizeApiUrl, resolveConfig } from "../config";
import { CliError } from "../errors";
import type { CheckLicenseOptions, LicenseCheck, LicenseCode } from "../lib-types";
import { type CheckContext, licenseContext } from "./context";
import { result, verifyLocal } from "./verdict";

/** After this age a valid token is refreshed (in the background); docs/api.md §5. */
export const REVALIDATE_AFTER_S = 24 * 3600;

/** Builds the context; a configuration problem becomes a result, not an exception. */
export function checkContext(
	options: CheckLicenseOptions,
): { ok: true; ctx: CheckContext } | { ok: false; check: LicenseCheck } {
	try {
		return { ok: true, ctx: licenseContext({ apiUrl: options.apiUrl, home: options.home }) };
	} catch (err) {
		if (err instanceof CliError) {
			const code: LicenseCode = err.code === "NO_HARDWARE_ID" ? "NO_HARDWARE_ID" : "MISCONFIGURED";
			return { ok: false, check: result({ code, message: err.message }) };
		}
		throw err;
	}
}

/**
 * The license check (docs/api.md §5). With a fresh token it does no network I/O; a token over
 * 24 h old is refreshed by a detached background process, so start-up never waits on the
 * network while the offline grace lasts. It never changes server state: no seat is taken.
 */
export async function runLicenseCheck(options: CheckLicenseOptions = {}): Promise<LicenseCheck> {
	// Inside `coditect ci run` the job's lease licenses it; a stored license is the fallback.
	if (process.env.CODITECT_CI_TOKEN || process.env.CODITECT_CI_TOKEN_FILE) {
		const { checkCiLease, ciLeaseToken } = await import("./ci-lease");
		const token = ciLeaseToken();
		if (token) {
			let ci: LicenseCheck | null = null;
			try {
				ci = await checkCiLease(resolveConfig(options), token, Date.now());
			} catch (err) {
				if (!(err instanceof CliError)) throw err;
			}
			if (ci?.licensed) return ci;
			const stored = await checkStored(options);
			return stored.licensed || ci === null ? stored : ci;
		}
	}
	return checkStored(options);
}

async function checkStored(options: CheckLicenseOptions): Promise<LicenseCheck> {
	const prepared = checkContext(options);
	if (!prepared.ok) return prepared.check;
	let { ctx } = prepared;
	const online = options.online ?? "auto";
	let local = await verifyLocal(ctx);
	if (local.recordedApiUrl !== undefined && ctx.config.sources.apiUrl === "default") {
		// Nothing configured: the server that issued the license is the one to check it with.
		try {
			const apiUrl = normalizeApiUrl(local.recordedApiUrl);
			ctx = { ...ctx, config: { ...ctx.config, apiUrl } };
			local = await verifyLocal(ctx);
		} catch {
			// A recorded URL this CLI would refuse stays a foreign license.
		}
	}
	const { code } = local.check;
	// An air-gapped license never goes online: its file is the whole truth until it ends.
	if (local.stored?.source === "offline") {
		return online === "always" && local.check.licensed
			? { ...local.check, revalidation: "skipped" }
			: local.check;
	}
	if (local.check.licensed) {
		if (online === "always") {
			const { revalidate } = await import("./revalidate");
			return revalidate(ctx, local);
		}
		if (local.ageS >= REVALIDATE_AFTER_S && online === "auto") {
			const { startBackgroundRefresh } = await import("./refresh");
			const started = startBackgroundRefresh(ctx, options.refreshCommand);
			return { ...local.check, revalidation: started ? "background" : "skipped" };
		}
		return local.check;
	}
	// Only on request does a clock verdict go online: a clock that is really wrong gets a token
	// from its future and stays refused, while one that is right again resets last-seen from
	// the server's signed time. Asking on every start would just add a network wait.
	if (
		online === "never" ||
		(online === "auto" && (code === "CLOCK_ROLLBACK" || code === "CLOCK_BEHIND"))
	) {
		return local.check;
	}
	const { revalidate } = await import("./revalidate");
	return revalidate(ctx, local);
}
