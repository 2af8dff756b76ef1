/**
 * Online half of the license check: revalidate with the server, verify and store the fresh
 * token. Imported lazily: the start-up path with a fresh token never loads it.
 */
import { decodeLicenseTokenUnverified } from "../src/kernel/token/claims";
import { importPublicKeySetWith } from "../src/kernel/token/keys";
import { verifyLicenseTokenWith } from "../src/kernel/token/verify";
import { ApiFailure, apiRequest, rateLimitedMessage } from "./api";
import {
	type CheckContext,
	type LicenseCheck,
	type LicenseCode,
	type LocalVerdict,
	messageFor,
	verifyLocal,
} from "./check";
import { CliError, EXIT_UNLICENSED } from "./errors";
import { cacheJwks, trustedKeys, trustsFetchedKeys } from "./keys";
import { nodeVerifier } from "./node-crypto";
import { accessToken, loadCredentials } from "./session";
import {
	advanceLastSeen,
	isObject,
	readLastSeen,
	type StoredLicense,
	writeJsonFile,
} from "./store";

/** The license part of activate/validate answers that the CLI uses. */
export interface LicenseBody {
	id: string;
	plan: string;
	status: string;
	expires_at: string | null;
	max_activations: number;
	key_last4?: string;
}

export interface ActivationBody {
	id: string;
	hardware_id: string;
}

export interface ActivateResponse {
	activation: ActivationBody;
	license: LicenseBody;
	token: string;
}

interface ValidateResponse {
	valid: boolean;
	code: string;
	license: LicenseBody | null;
	token: string | null;
}

/**
 * Verifies a token the server just sent. For a self-hosted server an unknown `kid` fetches
 * and caches that server's JWKS first; for the production server only bundled keys count.
 */
export async function acceptServerToken(ctx: CheckContext, token: string): Promise<void> {
	const { config, hardwareId } = ctx;
	const verify = async () =>
		verifyLicenseTokenWith(token, await trustedKeys(config.home, config.apiUrl), nodeVerifier, {
			hardwareId,
			issuer: config.apiUrl,
		});
	let verified = await verify();
	if (!verified.ok && verified.reason === "UNKNOWN_KEY" && trustsFetchedKeys(config.apiUrl)) {
		const jwks = await apiRequest<unknown>(config.apiUrl, "GET", "/.well-known/jwks.json");
		const keys = isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys : [];
		// Only keys that import (Ed25519, kid = thumbprint) are kept.
		const usable = await importPublicKeySetWith({ keys }, nodeVerifier);
		cacheJwks(
			config.home,
			config.apiUrl,
			keys.filter((k) => isObject(k) && typeof k.kid === "string" && usable.has(k.kid)),
		);
		verified = await verify();
	}
	if (!verified.ok) {
		const hint =
			verified.reason === "UNKNOWN_KEY"
				? "It is signed with a key this CLI version does not know: update coditect (`npm i -g coditect`)."
				: verified.reason === "ISSUED_IN_FUTURE" || verified.reason === "EXPIRED"
					? "This machine's clock looks wrong: correct the date and time."
					: "Check CODITECT_API_URL points at your CODITECT license server.";
		throw new CliError(
			`The server sent a license token that does not verify (${verified.reason}). ${hint}`,
			"TOKEN_REJECTED",
			EXIT_UNLICENSED,
		);
	}
}

/** Saves license.json and moves last-seen forward (a fresh token proves the time). */
export function saveLicense(ctx: CheckContext, license: StoredLicense): void {
	writeJsonFile(ctx.paths.license, license);
	advanceLastSeen(ctx.paths, Date.now(), readLastSeen(ctx.paths));
}

const SERVER_CODES: Record<string, LicenseCode> = {
	NOT_FOUND: "NOT_FOUND",
	LICENSE_NOT_FOUND: "NOT_FOUND",
	NOT_ACTIVATED: "NOT_ACTIVATED",
	ACTIVATION_NOT_FOUND: "NOT_ACTIVATED",
	EXPIRED: "EXPIRED",
	SUSPENDED: "SUSPENDED",
	REVOKED: "REVOKED",
	// Refused as PAST_DUE = the payment grace is over: the payment is the reason, not an end date.
	PAST_DUE: "PAST_DUE",
};

type Outcome =
	| { kind: "token"; token: string; activationId: string | null }
	| { kind: "refused"; code: LicenseCode }
	| { kind: "unreachable"; error: string }
	| { kind: "no_way" };

/** Whether the account's licenses (GET /api/v1/licenses: active activations only) still hold this one. */
function holdsActivation(body: unknown, licenseId: string, activationId: string): boolean {
	const list = isObject(body) && Array.isArray(body.licenses) ? body.licenses : [];
	const license = list.find((l) => isObject(l) && l.id === licenseId);
	const acts = isObject(license) && Array.isArray(license.activations) ? license.activations : [];
	return acts.some((a) => isObject(a) && a.id === activationId);
}

async function askServer(ctx: CheckContext, stored: StoredLicense | null): Promise<Outcome> {
	const { config, paths, hardwareId } = ctx;
	try {
		if (stored?.source === "key" && stored.license_key) {
			const body = await apiRequest<ValidateResponse>(
				config.apiUrl,
				"POST",
				"/api/v1/licenses/validate",
				{
					json: { license_key: stored.license_key, hardware_id: hardwareId },
					timeoutMs: 10_000,
				},
			);
			if (body.valid && typeof body.token === "string") {
				return { kind: "token", token: body.token, activationId: stored.activation_id };
			}
			return { kind: "refused", code: SERVER_CODES[body.code] ?? "NOT_ACTIVATED" };
		}
		if (loadCredentials(paths, config.apiUrl) === null) return { kind: "no_way" };
		const creds = await accessToken(paths, config.apiUrl);
		if (stored?.source === "account" && stored.activation_id !== null) {
			// A seat the owner freed remotely (the lost laptop) stays free: only an explicit
			// `coditect activate` takes one again, never a background check.
			const mine = await apiRequest<unknown>(config.apiUrl, "GET", "/api/v1/licenses", {
				bearer: creds.access_token,
				timeoutMs: 10_000,
			});
			if (!holdsActivation(mine, stored.license_id, stored.activation_id)) {
				return { kind: "refused", code: "NOT_ACTIVATED" };
			}
		}
		const body = await apiRequest<ActivateResponse>(
			config.apiUrl,
			"POST",
			"/api/v1/licenses/activate-mine",
			{ json: { hardware_id: hardwareId }, bearer: creds.access_token, timeoutMs: 10_000 },
		);
		return { kind: "token", token: body.token, activationId: body.activation.id };
	} catch (err) {
		if (err instanceof ApiFailure) {
			if (err.code === "RATE_LIMITED")
				return { kind: "unreachable", error: rateLimitedMessage(err) };
			const code = SERVER_CODES[err.code];
			if (code && err.status < 500) return { kind: "refused", code };
			return { kind: "unreachable", error: `${err.status} ${err.code}: ${err.message}` };
		}
		if (err instanceof CliError) {
			if (err.code === "NETWORK_ERROR") return { kind: "unreachable", error: err.message };
			return { kind: "unreachable", error: err.message };
		}
		throw err;
	}
}

/**
 * Checks with the server now. A definitive refusal (revoked, expired, not activated…) also
 * drops the cached token, so the license stops working offline too; a network failure
 * leaves the cache alone and the local verdict stands.
 */
export async function revalidate(ctx: CheckContext, local: LocalVerdict): Promise<LicenseCheck> {
	const outcome = await askServer(ctx, local.stored);
	switch (outcome.kind) {
		case "no_way":
			return { ...local.check, revalidation: "skipped" };
		case "unreachable":
			return { ...local.check, revalidation: "failed", network_error: outcome.error };
		case "refused": {
			if (local.stored !== null && local.stored.token !== null) {
				writeJsonFile(ctx.paths.license, { ...local.stored, token: null });
			}
			return {
				...local.check,
				licensed: false,
				code: outcome.code,
				message: messageFor(outcome.code),
				grace_remaining_s: 0,
				offline: false,
				revalidation: "done",
			};
		}
		case "token": {
			try {
				await acceptServerToken(ctx, outcome.token);
			} catch (err) {
				if (err instanceof CliError) {
					return { ...local.check, revalidation: "failed", network_error: err.message };
				}
				throw err;
			}
			const stored = local.stored;
			// Verified just above, so reading the claims back is safe.
			const claims = decodeLicenseTokenUnverified(outcome.token)?.sub;
			saveLicense(ctx, {
				version: 1,
				api_url: ctx.config.apiUrl,
				source: stored?.source === "key" && stored.license_key ? "key" : "account",
				license_key: stored?.source === "key" ? stored.license_key : null,
				license_id: claims ?? stored?.license_id ?? "",
				activation_id: outcome.activationId,
				token: outcome.token,
				last_online_at: Math.floor(Date.now() / 1000),
			});
			const fresh = await verifyLocal({ ...ctx, nowMs: Date.now() });
			return { ...fresh.check, offline: false, revalidation: "done" };
		}
	}
}
