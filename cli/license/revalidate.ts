/**
 * Online half of the license check: ask the server about the stored license and, when it
 * answers with a fresh token, make that the license. Imported lazily: the start-up path
 * with a fresh token never loads it.
 */

import { loadCredentials } from "../account/credentials";
import { accessToken } from "../account/session";
import { ApiFailure, apiRequest, rateLimitedMessage } from "../api";
import { CliError } from "../errors";
import type { LicenseCheck, LicenseCode } from "../lib-types";
import { acceptLicenseToken, type LicenseOrigin } from "./accept";
import type { LicenseBody } from "./activate";
import type { CheckContext } from "./context";
import { type StoredLicense, writeLicenseFile } from "./store";
import { type LocalVerdict, licensedVerdict, messageFor } from "./verdict";

interface ValidateResponse {
	valid: boolean;
	code: string;
	license: LicenseBody | null;
	token: string | null;
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
	| { kind: "token"; token: string; origin: LicenseOrigin }
	| { kind: "refused"; code: LicenseCode }
	| { kind: "unreachable"; error: string }
	| { kind: "no_way" }
	| { kind: "activate_first"; email: string };

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
				return {
					kind: "token",
					token: body.token,
					origin: {
						source: "key",
						license_key: stored.license_key,
						activation_id: stored.activation_id,
					},
				};
			}
			return { kind: "refused", code: SERVER_CODES[body.code] ?? "NOT_ACTIVATED" };
		}
		const login = loadCredentials(paths, config.apiUrl);
		if (login === null) return { kind: "no_way" };
		// A check never takes a seat: without an activation of its own on record this machine
		// stays unlicensed, and only `coditect activate` activates it.
		if (stored?.source !== "account" || stored.activation_id === null) {
			return { kind: "activate_first", email: login.user.email };
		}
		const creds = await accessToken(paths, config.apiUrl);
		// A token for the activation on record, never a new one: a seat the owner freed remotely
		// (the lost laptop) stays free, and a check spends no activation budget.
		const licenseId = encodeURIComponent(stored.license_id);
		const activationId = encodeURIComponent(stored.activation_id);
		const body = await apiRequest<ValidateResponse>(
			config.apiUrl,
			"POST",
			`/api/v1/licenses/${licenseId}/activations/${activationId}/token`,
			{ bearer: creds.access_token, timeoutMs: 10_000 },
		);
		if (body.valid && typeof body.token === "string") {
			return {
				kind: "token",
				token: body.token,
				origin: { source: "account", activation_id: stored.activation_id },
			};
		}
		return { kind: "refused", code: SERVER_CODES[body.code] ?? "NOT_ACTIVATED" };
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
		case "activate_first":
			return {
				...local.check,
				revalidation: "skipped",
				message: `This machine is not activated. You are logged in as ${outcome.email}: run \`coditect activate\` to activate it with your license.`,
			};
		case "unreachable":
			return { ...local.check, revalidation: "failed", network_error: outcome.error };
		case "refused": {
			if (local.stored !== null && local.stored.token !== null) {
				writeLicenseFile(ctx.paths, { ...local.stored, token: null });
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
				const { claims, stored } = await acceptLicenseToken(ctx, outcome.token, outcome.origin);
				const fresh = licensedVerdict(claims, stored, Date.now());
				return { ...fresh.check, offline: false, revalidation: "done" };
			} catch (err) {
				if (err instanceof CliError) {
					return { ...local.check, revalidation: "failed", network_error: err.message };
				}
				throw err;
			}
		}
	}
}
