/**
 * Background revalidation. When the token is over 24 h old, `license status` and
 * `checkLicense()` answer from the cache at once and start a detached child process that
 * runs `coditect license status --online` and rewrites license.json. The caller never
 * waits on the network (offline, that wait would be a connect timeout on every start),
 * and the child outlives a short-lived host process. At most one attempt per 15 minutes,
 * so an offline machine does not spawn a process on every start, and one at a time: copies
 * of the tool starting together take turns on a lock file to read and stamp refresh.json.
 */
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isObject, readJsonFile, writeFileAtomic } from "../home";
import type { CheckContext } from "./context";

const MIN_INTERVAL_MS = 15 * 60 * 1000;

/**
 * Runs `claim` while holding `<path>.lock` (created with O_EXCL). Another copy of the tool
 * holding it is deciding the same thing right now, so the answer is simply "not this time".
 */
function withLock(path: string, claim: () => boolean, retry = true): boolean {
	const lock = `${path}.lock`;
	let fd: number;
	try {
		fd = openSync(lock, "wx", 0o600);
	} catch {
		// A holder that died inside its few microseconds of holding would block every later
		// refresh: its lock names its pid, and a lock whose process is gone is removed. (Not by
		// age: the clock may be anything here, even under test.)
		if (!retry || !holderIsGone(lock)) return false;
		unlinkSync(lock);
		return withLock(path, claim, false);
	}
	try {
		writeSync(fd, String(process.pid));
		return claim();
	} finally {
		closeSync(fd);
		unlinkSync(lock);
	}
}

function holderIsGone(lock: string): boolean {
	try {
		const pid = Number(readFileSync(lock, "utf8"));
		if (!Number.isSafeInteger(pid) || pid <= 0) return false; // still being written
		process.kill(pid, 0);
		return false;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === "ESRCH";
	}
}

/** This package's CLI: dist/coditect.cjs beside the bundled library, or the built one from source. */
function defaultCliEntry(): string | null {
	const here = import.meta.url;
	const entry = fileURLToPath(
		new URL(here.endsWith(".ts") ? "../dist/coditect.cjs" : "./coditect.cjs", here),
	);
	return existsSync(entry) ? entry : null;
}

/** Starts the detached refresh unless one was started recently. Returns whether it started. */
export function startBackgroundRefresh(ctx: CheckContext, command?: readonly string[]): boolean {
	const { paths, config, nowMs } = ctx;
	const claimed = (): boolean => {
		const state = readJsonFile(paths.refreshState);
		if (state.kind === "ok" && isObject(state.value)) {
			const last = state.value.started_at;
			if (typeof last === "number" && Math.abs(nowMs - last) < MIN_INTERVAL_MS) return false;
		}
		writeFileAtomic(paths.refreshState, JSON.stringify({ started_at: nowMs }), { durable: false });
		return true;
	};
	const argv = command ? [...command] : [process.execPath, defaultCliEntry() ?? ""];
	const [file, ...args] = argv;
	if (!file || args.includes("")) return false;
	try {
		if (!withLock(paths.refreshState, claimed)) return false;
		const { spawn } = process.getBuiltinModule("node:child_process");
		const child = spawn(file, [...args, "license", "status", "--online", "--json"], {
			detached: true,
			stdio: "ignore",
			windowsHide: true,
			env: { ...process.env, CODITECT_HOME: config.home, CODITECT_API_URL: config.apiUrl },
		});
		child.on("error", () => {});
		child.unref();
		return true;
	} catch {
		return false;
	}
}
