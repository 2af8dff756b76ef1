/**
 * CLI start-up benchmark: `coditect license status` with a fresh token and the server down,
 * through the installed bin (its `#!/usr/bin/env node`, status.cjs and its code cache) and
 * as the single-file `node cli.cjs`, against `node -e 0` on the same Node, side by side in
 * each hyperfine run, with the crypto alone as a floor; and in-process `checkLicense()`
 * after import. Targets: bin ≤ 1.25× `node -e 0`, `checkLicense()` ≤ 0.3 ms.
 *
 *   npx tsx bench/cli-status.ts        (needs hyperfine: apt-get install hyperfine)
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { buildCli } from "../scripts/build-cli";
import { generateSigningKeyPair } from "../src/kernel/index";
import { startServer } from "../src/server";

export interface BenchRow {
	name: string;
	value: string;
	target?: string;
	ok?: boolean;
}

const root = resolve(fileURLToPath(import.meta.url), "../..");
const CLI = resolve(root, "cli/dist/coditect.cjs");
const SINGLE_FILE = resolve(root, "cli/dist/cli.cjs");

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A home holding a fresh token from a real server that is then stopped. */
async function freshTokenHome(): Promise<{ home: string; apiUrl: string }> {
	const home = await mkdtemp(join(tmpdir(), "coditect-bench-"));
	const pair = await generateSigningKeyPair();
	const admin = randomBytes(32).toString("base64url");
	const probe = await startServer({
		port: 0,
		dataDir: null,
		log: () => {},
		env: envFor(pair, admin, undefined),
	});
	const port = new URL(probe.url).port;
	await probe.close();
	const apiUrl = `http://127.0.0.1:${port}`;
	const server = await startServer({
		port: Number(port),
		dataDir: null,
		log: () => {},
		env: envFor(pair, admin, apiUrl),
	});
	try {
		const res = await fetch(`${apiUrl}/api/v1/admin/licenses`, {
			method: "POST",
			headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
			body: JSON.stringify({ plan: "professional" }),
		});
		const { license_key } = (await res.json()) as { license_key: string };
		// Async: the server runs in this process, so a synchronous child would deadlock it.
		await promisify(execFile)(process.execPath, [CLI, "activate", license_key], {
			env: cliEnv(home, apiUrl),
		});
	} finally {
		await server.close();
	}
	return { home, apiUrl };
}

function envFor(
	pair: Awaited<ReturnType<typeof generateSigningKeyPair>>,
	admin: string,
	publicUrl: string | undefined,
): Record<string, string | undefined> {
	return {
		DATABASE_URL: process.env.BENCH_DATABASE_URL,
		LICENSE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
		LICENSE_KEY_PEPPER: randomBytes(32).toString("base64url"),
		JWT_SECRET: randomBytes(32).toString("base64url"),
		ADMIN_TOKEN: admin,
		PUBLIC_URL: publicUrl,
	};
}

function cliEnv(home: string, apiUrl: string): NodeJS.ProcessEnv {
	return {
		...process.env,
		CODITECT_HOME: home,
		CODITECT_API_URL: apiUrl,
		CODITECT_HARDWARE_ID: "bench-machine",
		NO_COLOR: "1",
	};
}

interface HyperfineResult {
	results: Array<{ command: string; mean: number; stddev: number; median: number }>;
}

/**
 * A script doing only the crypto every check needs, from a file: load node:crypto, import the
 * Ed25519 key from its JWK, verify one real signature, one HMAC and one SHA-256. It shows
 * how much of the ratio the platform takes before any of our code runs (`node -e 0` itself
 * loads node:crypto, an empty file does not).
 */
async function cryptoFloorScript(home: string): Promise<string> {
	const { generateKeyPairSync, sign } = await import("node:crypto");
	const { publicKey, privateKey } = generateKeyPairSync("ed25519");
	const jwk = publicKey.export({ format: "jwk" });
	const data = "header.payload";
	const signature = sign(null, Buffer.from(data), privateKey).toString("base64url");
	const file = join(home, "crypto-floor.cjs");
	await writeFile(
		file,
		`"use strict";
const c = process.getBuiltinModule("node:crypto");
const key = c.createPublicKey({ key: ${JSON.stringify(jwk)}, format: "jwk" });
const ok = c.verify(null, Buffer.from(${JSON.stringify(data)}), key, Buffer.from(${JSON.stringify(signature)}, "base64url"));
c.hash("sha256", "thumbprint");
c.hash("sha256", "hmac inner");
if (!ok) process.exitCode = 1;
`,
	);
	return file;
}

export async function runCliBench(): Promise<{ rows: BenchRow[] }> {
	await buildCli({ quiet: true });
	const { home, apiUrl } = await freshTokenHome();
	const rows: BenchRow[] = [];
	try {
		// Several short hyperfine runs, each timing every command back to back: on a shared,
		// noisy machine a drift in load then hits both sides of each ratio alike.
		const node = process.execPath;
		const floor = await cryptoFloorScript(home);
		const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
		const medians = {
			base: [] as number[],
			floor: [] as number[],
			single: [] as number[],
			bin: [] as number[],
		};
		const ratios = { floor: [] as number[], single: [] as number[], bin: [] as number[] };
		for (let round = 0; round < rounds; round++) {
			const out = join(home, `hyperfine-${round}.json`);
			execFileSync(
				"hyperfine",
				[
					"-N",
					"--style",
					"none",
					"--warmup",
					"3",
					"--runs",
					process.env.BENCH_RUNS ?? "20",
					"--export-json",
					out,
					"-n",
					"node -e 0",
					`${node} -e 0`,
					"-n",
					"crypto floor",
					`${node} ${floor}`,
					"-n",
					"node cli.cjs license status",
					`${node} ${SINGLE_FILE} license status`,
					// The installed bin as a shell runs it: exec through its `#!/usr/bin/env node`.
					"-n",
					"coditect license status (bin, env shebang)",
					`${CLI} license status`,
				],
				{ env: cliEnv(home, apiUrl), stdio: ["ignore", "ignore", "inherit"] },
			);
			const report = JSON.parse(await readFile(out, "utf8")) as HyperfineResult;
			const [base, crypto, single, bin] = report.results;
			if (!base || !crypto || !single || !bin) throw new Error("hyperfine reported no results");
			medians.base.push(base.median * 1000);
			medians.floor.push(crypto.median * 1000);
			medians.single.push(single.median * 1000);
			medians.bin.push(bin.median * 1000);
			ratios.floor.push(crypto.median / base.median);
			ratios.single.push(single.median / base.median);
			ratios.bin.push(bin.median / base.median);
		}
		const spread = (values: number[]) =>
			`${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
		const binRatio = median(ratios.bin);
		rows.push(
			{
				name: "node -e 0 (median of round medians)",
				value: `${median(medians.base).toFixed(1)} ms`,
			},
			{
				name: "crypto floor: node:crypto + key import + verify, from a file",
				value: `${median(medians.floor).toFixed(1)} ms`,
			},
			{
				name: "node cli.cjs license status (single file), token fresh, server down",
				value: `${median(medians.single).toFixed(1)} ms`,
			},
			{
				name: "coditect license status, installed bin (env shebang)",
				value: `${median(medians.bin).toFixed(1)} ms`,
			},
			{
				name: `crypto floor / node -e 0 (${rounds} rounds, ${spread(ratios.floor)})`,
				value: `${median(ratios.floor).toFixed(2)}×`,
			},
			{
				name: `node cli.cjs / node -e 0 (${rounds} rounds, ${spread(ratios.single)})`,
				value: `${median(ratios.single).toFixed(2)}×`,
			},
			{
				name: `bin license status / node -e 0 (${rounds} rounds, ${spread(ratios.bin)})`,
				value: `${binRatio.toFixed(2)}×`,
				target: "≤ 1.25×",
				ok: binRatio <= 1.25,
			},
		);

		const env = cliEnv(home, apiUrl);
		const saved = { ...process.env };
		Object.assign(process.env, env);
		try {
			const importStart = performance.now();
			const lib = (await import(
				pathToFileURL(resolve(root, "cli/dist/lib.mjs")).href
			)) as typeof import("../cli/lib");
			const first = await lib.checkLicense();
			const importMs = performance.now() - importStart;
			if (!first.licensed) throw new Error(`checkLicense: ${first.code} ${first.message}`);
			const samples: number[] = [];
			for (let i = 0; i < 200; i++) {
				const t = performance.now();
				await lib.checkLicense();
				samples.push(performance.now() - t);
			}
			const med = median(samples);
			rows.push(
				{ name: "import + first checkLicense()", value: `${importMs.toFixed(1)} ms` },
				{
					name: "checkLicense(), fresh token, after import (median of 200)",
					value: `${(med * 1000).toFixed(0)} µs`,
					target: "≤ 0.3 ms",
					ok: med <= 0.3,
				},
			);
		} finally {
			for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
			Object.assign(process.env, saved);
		}
	} finally {
		if (process.env.BENCH_KEEP_HOME) console.error(`kept ${home} (CODITECT_API_URL=${apiUrl})`);
		else await rm(home, { recursive: true, force: true });
	}
	return { rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	const { rows } = await runCliBench();
	for (const row of rows) {
		const verdict = row.ok === undefined ? "" : row.ok ? "  ok" : "  MISSED";
		console.log(`${row.name.padEnd(62)} ${row.value.padEnd(18)} ${row.target ?? ""}${verdict}`);
	}
}
