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
	statSync,
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
	/** Air-gapped machines: the machine's Ed25519 key and the request awaiting its answer. */
	machineKey: string;
	offlineRequest: string;
}

export function homePaths(home: string): HomePaths {
	return {
		home,
		license: join(home, "license.json"),
		credentials: join(home, "credentials.json"),
		lastSeen: join(home, "last-seen"),
		refreshState: join(home, "refresh.json"),
		config: join(home, "config.yaml"),
		machineKey: join(home, "machine-key.json"),
		offlineRequest: join(home, "offline-request.json"),
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

/**
 * A file's text, or null when there is no such file; other failures (a directory, no
 * permission) throw. For files usually absent (config.yaml): the ENOENT error readFileSync
 * would throw costs ~19 µs (its stack trace) against ~3 µs for a stat that reports absence
 * without one, on every license check. A file usually there is better read at once (the stat
 * would be a second system call): readJsonFile does that.
 */
export function readFileIfExists(path: string): string | null {
	if (statSync(path, { throwIfNoEntry: false }) === undefined) return null;
	return readFileSync(path, "utf8");
}

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
