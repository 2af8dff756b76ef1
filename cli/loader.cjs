#!/usr/bin/env node
/**
 * The `coditect` bin (copied to dist/coditect.cjs by scripts/build-cli.ts). Plain CommonJS,
 * never bundled: it is the one file V8 compiles from scratch at every start, so it stays small.
 *
 * `coditect license status` runs at every start of the host tool. It goes to status.cjs (the
 * status path alone, ~36 KB against cli.cjs's ~120 KB), compiled through node:vm with a V8
 * code cache taken at exit, after the run: that cache holds the functions the check
 * actually ran, which V8 otherwise compiles lazily on their first call at every start
 * (~3 ms of a ~30 ms start, bench/cli-status.ts). Node's own compile cache
 * (module.enableCompileCache) is taken right after compiling, before anything runs, and
 * gains nothing measurable on status.cjs; it stays for the full command line.
 *
 * The cache lives in the CODITECT home (a 0700 directory of the user's own, never a shared
 * temp dir: a planted code cache is code), named by a SHA-256 of Node's version, the
 * architecture and status.cjs itself, so an upgraded CLI or Node never reads a stale one
 * (V8 rejects a cache from other flags on its own, and the file is then written again).
 * status.cjs answers false for a command line it does not take (`--help`, a typo), and
 * cli.cjs then answers it.
 */
"use strict";

// Built-ins through getBuiltinModule, not require: the first require() of a process sets up
// the CommonJS resolver and its debug logging (~1 ms of this start, measured).
const fs = process.getBuiltinModule("node:fs");
const path = process.getBuiltinModule("node:path");

function homeDir() {
	const env = process.env.CODITECT_HOME;
	if (env) return path.resolve(env);
	// What os.homedir() answers when the variable is set; node:os costs ~0.3 ms to load.
	const home = process.platform === "win32" ? process.env.USERPROFILE : process.env.HOME;
	return path.join(home || process.getBuiltinModule("node:os").homedir(), ".coditect");
}

function saveCache(dir, file, data) {
	try {
		if (!fs.existsSync(path.dirname(dir))) return; // no home yet: a check creates nothing
		fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
		for (const old of fs.readdirSync(dir)) {
			if (old.startsWith("status-") && path.join(dir, old) !== file)
				fs.rmSync(path.join(dir, old), { force: true });
		}
		const temp = `${file}.${process.pid}.tmp`;
		fs.writeFileSync(temp, data, { mode: 0o600 });
		fs.renameSync(temp, file);
	} catch {
		// A cache that cannot be written only costs the next start its ~3 ms.
	}
}

function loadStatus() {
	const file = path.join(__dirname, "status.cjs");
	const source = fs.readFileSync(file, "utf8");
	const dir = path.join(homeDir(), "cache");
	const id = process
		.getBuiltinModule("node:crypto")
		.hash("sha256", `${process.version}\0${process.arch}\0${source}`);
	const cacheFile = path.join(dir, `status-${id.slice(0, 32)}.v8`);
	let cachedData;
	try {
		cachedData = fs.readFileSync(cacheFile);
	} catch {
		cachedData = undefined;
	}
	const vm = process.getBuiltinModule("node:vm");
	const script = new vm.Script(
		`(function (exports, require, module, __filename, __dirname) {${source}\n})`,
		{ filename: file, cachedData },
	);
	if (cachedData === undefined || script.cachedDataRejected) {
		process.once("exit", () => saveCache(dir, cacheFile, script.createCachedData()));
	}
	const module = { exports: {} };
	script.runInThisContext()(module.exports, require, module, file, __dirname);
	return module.exports;
}

const args = process.argv.slice(2);
const status = args[0] === "license" && args[1] === "status";
if (!(status && loadStatus().runStatusCommand(args))) {
	// A cache that cannot be written (read-only temp dir) is skipped by Node itself.
	process.getBuiltinModule("node:module").enableCompileCache?.();
	require("./cli.cjs");
}
