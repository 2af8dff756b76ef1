/**
 * license.json (the cached license every check reads) and last-seen (the latest time this
 * machine has shown us, for the clock-rollback rule of docs/api.md §5).
 */
import { readFileSync } from "node:fs";
import { type HomePaths, isObject, readJsonFile, writeFileAtomic, writeJsonFile } from "../home";

/** The cached license: what `activate` stored and every check reads. */
export interface StoredLicense {
	version: 1;
	/** The server this license came from; a file for another server is ignored (foreign). */
	api_url: string;
	/**
	 * How to revalidate: with the key, or as the logged-in owner (activate-mine); "offline": an
	 * air-gapped machine's license file (docs/offline-activation.md), never revalidated.
	 */
	source: "key" | "account" | "offline";
	license_key: string | null;
	license_id: string;
	activation_id: string | null;
	/** The latest signed token, or null after the server said the license is unusable. */
	token: string | null;
	/** Seconds since the epoch of the last successful online check. */
	last_online_at: number;
}

export function parseStoredLicense(value: unknown): StoredLicense | null {
	if (!isObject(value) || value.version !== 1) return null;
	const { api_url, source, license_key, license_id, activation_id, token, last_online_at } = value;
	if (typeof api_url !== "string") return null;
	if (source !== "key" && source !== "account" && source !== "offline") return null;
	if (license_key !== null && typeof license_key !== "string") return null;
	if (source === "key" && typeof license_key !== "string") return null;
	if (
		typeof license_id !== "string" ||
		(activation_id !== null && typeof activation_id !== "string")
	)
		return null;
	if (token !== null && typeof token !== "string") return null;
	if (typeof last_online_at !== "number" || !Number.isFinite(last_online_at)) return null;
	return {
		version: 1,
		api_url,
		source,
		license_key,
		license_id,
		activation_id,
		token,
		last_online_at,
	};
}

export type LicenseFile =
	| { kind: "missing" }
	| { kind: "corrupt" }
	| { kind: "ok"; license: StoredLicense };

export function readLicenseFile(paths: HomePaths): LicenseFile {
	const read = readJsonFile(paths.license);
	if (read.kind !== "ok") return read;
	const license = parseStoredLicense(read.value);
	return license === null ? { kind: "corrupt" } : { kind: "ok", license };
}

// ---- last-seen (clock rollback) -----------------------------------------------------------

/** Latest wall-clock time this machine has shown us, in ms; null when missing or unreadable. */
export function readLastSeen(paths: HomePaths): number | null {
	try {
		const value = Number(readFileSync(paths.lastSeen, "utf8").trim());
		return Number.isSafeInteger(value) && value > 0 ? value : null;
	} catch {
		return null;
	}
}

/** Last-seen moves in steps of at least this much, so most starts write nothing. */
const LAST_SEEN_STEP_MS = 60_000;

/**
 * Moves last-seen forward (never back), at most once a minute: the rollback check allows
 * 5 minutes, so a minute of granularity costs nothing, and skipping the write saves about a
 * millisecond on most starts. Best effort: a read-only home must not break checks.
 */
export function advanceLastSeen(paths: HomePaths, nowMs: number, previous: number | null): void {
	if (previous !== null && nowMs - previous < LAST_SEEN_STEP_MS) return;
	try {
		writeFileAtomic(paths.lastSeen, String(Math.floor(nowMs)), { durable: false });
	} catch {
		// Not fatal: the next run compares with the older value, which is only less strict.
	}
}

export function writeLicenseFile(paths: HomePaths, license: StoredLicense): void {
	writeJsonFile(paths.license, license);
}

/**
 * Sets last-seen to the server's signed time (a verified token's `iat`), back as well as
 * forward: a clock that once ran ahead left last-seen in the future, and only a time the
 * server vouches for may undo that. A machine whose clock is set back gains nothing: the
 * token it gets is then issued in its future and fails verification before this runs.
 */
export function resetLastSeen(paths: HomePaths, serverTimeMs: number): void {
	try {
		writeFileAtomic(paths.lastSeen, String(Math.floor(serverTimeMs)), { durable: false });
	} catch {
		// Not fatal, as in advanceLastSeen: the older value only makes the next check stricter.
	}
}
