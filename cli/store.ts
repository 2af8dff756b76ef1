/**
 * Files under CODITECT_HOME: 0600 files in a 0700 directory, written atomically (temp file
 * in the same directory, fsync, rename), so a crash mid-write leaves the old file intact.
 * Readers never throw on a bad file: they report it as missing or corrupt.
 */
import { randomBytes } from "node:crypto";
import {
	closeSync,
	fsyncSync,
	mkdirSync,
	openSync,
	readFileSync,
	renameSync,
	rmSync,
	unlinkSync,
	writeSync,
} from "node:fs";
import { dirname, join } from "node:path";

export interface HomePaths {
	home: string;
	license: string;
	credentials: string;
	lastSeen: string;
	refreshState: string;
	config: string;
}

export function homePaths(home: string): HomePaths {
	return {
		home,
		license: join(home, "license.json"),
		credentials: join(home, "credentials.json"),
		lastSeen: join(home, "last-seen"),
		refreshState: join(home, "refresh.json"),
		config: join(home, "config.yaml"),
	};
}

/**
 * Writes `data` to `path` with mode 0600: temp file, optional fsync, rename. `durable: false`
 * skips the fsync for bookkeeping files whose loss only costs an online check.
 */
export function writeFileAtomic(
	path: string,
	data: string,
	opts: { durable?: boolean } = {},
): void {
	const dir = dirname(path);
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	const temp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
	let fd: number | undefined;
	try {
		fd = openSync(temp, "wx", 0o600);
		writeSync(fd, data);
		if (opts.durable !== false) fsyncSync(fd);
		closeSync(fd);
		fd = undefined;
		renameSync(temp, path);
	} catch (err) {
		if (fd !== undefined) closeSync(fd);
		try {
			unlinkSync(temp);
		} catch {
			// Already gone or never created; the original error is the one that matters.
		}
		throw err;
	}
}

export type ReadResult = { kind: "missing" } | { kind: "corrupt" } | { kind: "ok"; value: unknown };

/** Reads a JSON file; a missing file and an unreadable or unparsable one are told apart. */
export function readJsonFile(path: string): ReadResult {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === "ENOENT"
			? { kind: "missing" }
			: { kind: "corrupt" };
	}
	try {
		return { kind: "ok", value: JSON.parse(text) };
	} catch {
		return { kind: "corrupt" };
	}
}

export function writeJsonFile(path: string, value: unknown): void {
	writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function removeFile(path: string): boolean {
	try {
		rmSync(path);
		return true;
	} catch {
		return false;
	}
}

export function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- license.json -----------------------------------------------------------------------

/** The cached license: what `activate` stored and every check reads. */
export interface StoredLicense {
	version: 1;
	/** The server this license came from; a file for another server is ignored (foreign). */
	api_url: string;
	/** How to revalidate: with the key, or as the logged-in owner (activate-mine). */
	source: "key" | "account";
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
	if (typeof api_url !== "string" || (source !== "key" && source !== "account")) return null;
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
