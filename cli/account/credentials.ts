/**
 * credentials.json: the logged-in session (docs/api.md §3.2), an access token (15 min) and a
 * rotating refresh token (90 days). Offline, the session still counts as logged in for 7 days
 * after the last time the server confirmed it, so `whoami` works on a plane.
 */

import type { SessionView } from "../../src/accounts/sessions";
import { type HomePaths, isObject, readJsonFile, removeFile, writeJsonFile } from "../home";

export const SESSION_OFFLINE_GRACE_S = 7 * 24 * 3600;
/** `whoami` warns when the session ends sooner than this. */
export const SESSION_WARNING_S = 7 * 24 * 3600;

/** The Session body of docs/api.md §3.2: the server's own type (erased from the bundle). */
export type SessionBody = SessionView;

export interface StoredCredentials {
	version: 1;
	api_url: string;
	access_token: string;
	/** Seconds since the epoch. */
	access_expires_at: number;
	refresh_token: string;
	refresh_expires_at: number;
	user: { id: string; email: string };
	/** Last time the server accepted this session (login, refresh, /me). */
	last_online_at: number;
}

export function isSessionBody(value: unknown): value is SessionBody {
	if (!isObject(value) || !isObject(value.user)) return false;
	return (
		typeof value.access_token === "string" &&
		typeof value.refresh_token === "string" &&
		typeof value.expires_in === "number" &&
		typeof value.refresh_expires_in === "number" &&
		typeof value.user.id === "string" &&
		typeof value.user.email === "string"
	);
}

function parseCredentials(value: unknown): StoredCredentials | null {
	if (!isObject(value) || value.version !== 1 || !isObject(value.user)) return null;
	const v = value;
	const user = value.user;
	if (typeof v.api_url !== "string" || typeof v.access_token !== "string") return null;
	if (typeof v.refresh_token !== "string" || typeof v.access_expires_at !== "number") return null;
	if (typeof v.refresh_expires_at !== "number" || typeof v.last_online_at !== "number") return null;
	if (typeof user.id !== "string" || typeof user.email !== "string") return null;
	return {
		version: 1,
		api_url: v.api_url,
		access_token: v.access_token,
		access_expires_at: v.access_expires_at,
		refresh_token: v.refresh_token,
		refresh_expires_at: v.refresh_expires_at,
		user: { id: user.id, email: user.email },
		last_online_at: v.last_online_at,
	};
}

export function nowSeconds(): number {
	return Math.floor(Date.now() / 1000);
}

/** Stored credentials for this API URL, or null (none, unreadable, or another server's). */
export function loadCredentials(paths: HomePaths, apiUrl: string): StoredCredentials | null {
	const read = readJsonFile(paths.credentials);
	if (read.kind !== "ok") return null;
	const creds = parseCredentials(read.value);
	return creds !== null && creds.api_url === apiUrl ? creds : null;
}

export function saveSession(
	paths: HomePaths,
	apiUrl: string,
	session: SessionBody,
): StoredCredentials {
	const now = nowSeconds();
	const creds: StoredCredentials = {
		version: 1,
		api_url: apiUrl,
		access_token: session.access_token,
		access_expires_at: now + session.expires_in,
		refresh_token: session.refresh_token,
		refresh_expires_at: now + session.refresh_expires_in,
		user: { id: session.user.id, email: session.user.email },
		last_online_at: now,
	};
	writeJsonFile(paths.credentials, creds);
	return creds;
}

export function deleteCredentials(paths: HomePaths): boolean {
	return removeFile(paths.credentials);
}
