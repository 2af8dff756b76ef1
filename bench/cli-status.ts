/**
 * CLI start-up benchmark (issue 5): `coditect license status` with a fresh token and the
 * server down, against `node -e 0` on the same Node, side by side in one hyperfine run; and
 * in-process `checkLicense()` after import. Target: ≤ 1.5× and ≤ 2 ms.
 *
 *   npx tsx bench/cli-status.ts        (needs hyperfine: apt-get install hyperfine)
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
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

export async function runCliBench(): Promise<{ rows: BenchRow[] }> {
	await buildCli({ quiet: true });
	const { home, apiUrl } = await freshTokenHome();
	const rows: BenchRow[] = [];
	try {
		// Several short hyperfine runs, each timing both commands back to back: on a shared,
		// noisy machine a drift in load then hits both sides of each ratio alike.
		const node = process.execPath;
		const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
		const baseMedians: number[] = [];
		const statusMedians: number[] = [];
		const binMedians: number[] = [];
		const ratios: number[] = [];
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
					"coditect license status",
					`${node} ${CLI} license status`,
					// The installed bin as a shell runs it: exec through its `#!/usr/bin/env node`.
					"-n",
					"coditect license status (bin, env shebang)",
					`${CLI} license status`,
				],
				{ env: cliEnv(home, apiUrl), stdio: ["ignore", "ignore", "inherit"] },
			);
			const report = JSON.parse(await readFile(out, "utf8")) as HyperfineResult;
			const [base, status, bin] = report.results;
			if (!base || !status || !bin) throw new Error("hyperfine reported no results");
			binMedians.push(bin.median * 1000);
			baseMedians.push(base.median * 1000);
			statusMedians.push(status.median * 1000);
			ratios.push(status.median / base.median);
		}
		const ratio = median(ratios);
		const spread = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
		rows.push(
			{
				name: "node -e 0 (median of round medians)",
				value: `${median(baseMedians).toFixed(1)} ms`,
			},
			{
				name: "coditect license status, fresh token, server down",
				value: `${median(statusMedians).toFixed(1)} ms`,
			},
			{
				name: "coditect license status through the bin's shebang",
				value: `${median(binMedians).toFixed(1)} ms`,
			},
			{
				name: `license status / node -e 0 (median of ${rounds} rounds, ${spread})`,
				value: `${ratio.toFixed(2)}×`,
				target: "≤ 1.5×",
				ok: ratio <= 1.5,
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
					target: "≤ 2 ms",
					ok: med <= 2,
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
