/** Using the stored session: a current access token, refreshed when it has run out. */
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError, EXIT_USAGE } from "../errors";
import type { HomePaths } from "../home";
import {
	deleteCredentials,
	isSessionBody,
	loadCredentials,
	nowSeconds,
	type StoredCredentials,
	saveSession,
} from "./credentials";

/** The server no longer accepts this session (logged out elsewhere, reused, expired). */
export function sessionRejected(paths: HomePaths): CliError {
	deleteCredentials(paths);
	return new CliError(
		"Your session is no longer valid (signed out elsewhere or expired). Run `coditect login` again.",
		"SESSION_EXPIRED",
	);
}

export function notLoggedIn(): CliError {
	return new CliError(
		"You are not logged in. Run `coditect login` (or `coditect signup` for a new account).",
		"NOT_LOGGED_IN",
		EXIT_USAGE,
	);
}

/**
 * A usable access token: the stored one while it has 30 s left, otherwise a refreshed
 * session (refresh tokens rotate, so the new pair is saved before use).
 */
export async function accessToken(paths: HomePaths, apiUrl: string): Promise<StoredCredentials> {
	const creds = loadCredentials(paths, apiUrl);
	if (creds === null) throw notLoggedIn();
	const now = nowSeconds();
	if (creds.access_expires_at - 30 > now) return creds;
	if (creds.refresh_expires_at <= now) {
		deleteCredentials(paths);
		throw new CliError(
			"Your session has ended (90 days). Run `coditect login` again.",
			"SESSION_EXPIRED",
		);
	}
	try {
		const session = await apiRequest<unknown>(apiUrl, "POST", "/api/v1/auth/refresh", {
			json: { refresh_token: creds.refresh_token },
		});
		if (!isSessionBody(session)) {
			throw new CliError(
				"The server sent an unexpected session; try `coditect login` again.",
				"BAD_RESPONSE",
			);
		}
		return saveSession(paths, apiUrl, session);
	} catch (err) {
		if (err instanceof ApiFailure && err.status === 401) throw sessionRejected(paths);
		if (err instanceof ApiFailure) throw failureToCliError(err, apiUrl, "session refresh");
		throw err;
	}
}

/**
 * One call as the logged-in user: the current access token, a 401 as "log in again", any
 * other refusal as the server's own message (`feature` names what was asked of it).
 */
export async function asUser<T>(
	paths: HomePaths,
	apiUrl: string,
	feature: string,
	method: "GET" | "POST" | "DELETE",
	path: string,
	json?: unknown,
): Promise<T> {
	const creds = await accessToken(paths, apiUrl);
	try {
		return await apiRequest<T>(apiUrl, method, path, {
			bearer: creds.access_token,
			...(json === undefined ? {} : { json }),
		});
	} catch (err) {
		if (err instanceof ApiFailure && err.status === 401) throw sessionRejected(paths);
		if (err instanceof ApiFailure) throw failureToCliError(err, apiUrl, feature);
		throw err;
	}
}
