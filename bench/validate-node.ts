/**
 * validate throughput on the Node entry (pooled Postgres) against a same-run baseline route
 * doing one pooled `select 1` with the same pool size; both driven by wrk over loopback, one
 * after the other. Measured at the default pool (20 connections) and again at 2 × this
 * machine's cores, the size Postgres' own guidance suggests for a database on this host.
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import {
	type BenchRow,
	benchSecrets,
	fmt,
	freshDatabase,
	seedLicenses,
	type WrkResult,
	wrk,
	wrkPostScript,
} from "./lib";

export interface ValidateFigures {
	rows: BenchRow[];
	ratio: number;
}

const DEFAULT_POOL = 20; // src/server.ts
const SCRIPT = "/tmp/coditect-validate.lua";

interface PoolRun {
	base: WrkResult;
	val: WrkResult;
	stack: WrkResult;
}

/** One server process at `pool` connections; seeds the licenses on the first call. */
async function measure(
	databaseUrl: string,
	secrets: Awaited<ReturnType<typeof benchSecrets>>,
	pool: number,
	seconds: number,
	seed: number | null,
): Promise<PoolRun> {
	const child = spawn(process.execPath, ["--import", "tsx", "bench/serve-node.ts"], {
		env: {
			...process.env,
			DATABASE_URL: databaseUrl,
			DATABASE_POOL_MAX: String(pool),
			...secrets,
			PUBLIC_URL: "http://127.0.0.1",
			NODE_ENV: "production",
		},
		stdio: ["ignore", "pipe", "inherit"],
	});
	try {
		const first = await new Promise<string>((ok, fail) => {
			createInterface({ input: child.stdout }).once("line", ok);
			child.once("exit", (code) => fail(new Error(`bench server exited ${code}`)));
		});
		const { url, baseline } = JSON.parse(first) as { url: string; baseline: string };
		if (seed !== null) {
			// After the server has migrated the database. Enough licenses that no key nears
			// validate's 60/min limit during the runs.
			const seeded = await seedLicenses(databaseUrl, secrets.LICENSE_KEY_PEPPER, seed);
			await wrkPostScript(
				SCRIPT,
				seeded.map((s) => JSON.stringify({ license_key: s.key, hardware_id: s.hw })),
			);
		}
		const validate = { url: `${url}/api/v1/licenses/validate`, script: SCRIPT };
		const connections = 32;
		await wrk({ url: baseline, seconds: 2, connections }); // warm-up
		await wrk({ ...validate, seconds: 2, connections });
		const base = await wrk({ url: baseline, seconds, connections });
		const val = await wrk({ ...validate, seconds, connections });
		// Where the gap comes from: the app's own stack (middleware, services, drizzle) around
		// the very same `select 1`, before validate does any work of its own.
		const stack = await wrk({ url: `${url}/healthz`, seconds, connections });
		return { base, val, stack };
	} finally {
		child.kill("SIGTERM");
		await new Promise((ok) => child.once("exit", ok));
	}
}

export async function runValidateNodeBench(
	opts: { seconds?: number; licenses?: number } = {},
): Promise<ValidateFigures> {
	const seconds = opts.seconds ?? 10;
	const db = await freshDatabase();
	try {
		const secrets = await benchSecrets();
		const run = await measure(db.url, secrets, DEFAULT_POOL, seconds, opts.licenses ?? 10_000);
		const sized = 2 * availableParallelism();
		const small = await measure(db.url, secrets, sized, seconds, null);
		const ratio = run.val.rps / run.base.rps;
		const smallRatio = small.val.rps / small.base.rps;
		return {
			ratio,
			rows: [
				{
					name: "Node: baseline `select 1` route",
					value: `${fmt(run.base.rps)} req/s, p50 ${fmt(run.base.p50ms, 2)} ms, p99 ${fmt(run.base.p99ms, 2)} ms`,
				},
				{
					name: "Node: POST /api/v1/licenses/validate",
					value: `${fmt(run.val.rps)} req/s, p50 ${fmt(run.val.p50ms, 2)} ms, p99 ${fmt(run.val.p99ms, 2)} ms, non-2xx ${run.val.non2xx}`,
				},
				{
					name: "Node: GET /healthz (the app's stack around the same `select 1`) / baseline",
					value: `${fmt(run.stack.rps)} req/s = ${fmt((run.stack.rps / run.base.rps) * 100)} %`,
				},
				{
					name: `Node: validate / baseline (pool ${DEFAULT_POOL}, the default)`,
					value: `${fmt(ratio * 100)} %`,
					target: "≥ 50 %",
					ok: ratio >= 0.5 && run.val.non2xx === 0,
				},
				{
					name: `Node, pool ${sized} (2 × cores): validate / baseline`,
					value: `${fmt(small.val.rps)} / ${fmt(small.base.rps)} req/s = ${fmt(smallRatio * 100)} % (validate p99 ${fmt(small.val.p99ms, 2)} ms, non-2xx ${small.val.non2xx})`,
				},
			],
		};
	} finally {
		await db.drop();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const { rows } = await runValidateNodeBench();
	for (const r of rows)
		console.log(
			`${r.name}: ${r.value}${r.target ? ` (target ${r.target}: ${r.ok ? "met" : "NOT met"})` : ""}`,
		);
}
