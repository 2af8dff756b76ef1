/**
 * validate throughput on the Node entry (pooled Postgres) against a same-run baseline route
 * doing one pooled `select 1`; both driven by wrk over loopback, one after the other.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
	type BenchRow,
	benchSecrets,
	fmt,
	freshDatabase,
	seedLicenses,
	wrk,
	wrkPostScript,
} from "./lib";

export interface ValidateFigures {
	rows: BenchRow[];
	ratio: number;
}

export async function runValidateNodeBench(
	opts: { seconds?: number; licenses?: number } = {},
): Promise<ValidateFigures> {
	const seconds = opts.seconds ?? 10;
	const db = await freshDatabase();
	const secrets = await benchSecrets();
	const pepper = secrets.LICENSE_KEY_PEPPER;
	const child = spawn(process.execPath, ["--import", "tsx", "bench/serve-node.ts"], {
		env: {
			...process.env,
			DATABASE_URL: db.url,
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
		// Enough licenses that no key nears validate's 60/min limit during the run.
		const seeded = await seedLicenses(db.url, pepper, opts.licenses ?? 10_000);
		const script = await wrkPostScript(
			"/tmp/coditect-validate.lua",
			seeded.map((s) => JSON.stringify({ license_key: s.key, hardware_id: s.hw })),
		);
		const connections = 32;
		await wrk({ url: baseline, seconds: 2, connections }); // warm-up
		await wrk({ url: `${url}/api/v1/licenses/validate`, script, seconds: 2, connections });
		const base = await wrk({ url: baseline, seconds, connections });
		const val = await wrk({ url: `${url}/api/v1/licenses/validate`, script, seconds, connections });
		// Where the gap comes from: the app's own stack (middleware, services, drizzle) around
		// the very same `select 1`, before validate does any work of its own.
		const stack = await wrk({ url: `${url}/healthz`, seconds, connections });
		const ratio = val.rps / base.rps;
		return {
			ratio,
			rows: [
				{
					name: "Node: baseline `select 1` route",
					value: `${fmt(base.rps)} req/s, p50 ${fmt(base.p50ms, 2)} ms, p99 ${fmt(base.p99ms, 2)} ms`,
				},
				{
					name: "Node: POST /api/v1/licenses/validate",
					value: `${fmt(val.rps)} req/s, p50 ${fmt(val.p50ms, 2)} ms, p99 ${fmt(val.p99ms, 2)} ms, non-2xx ${val.non2xx}`,
				},
				{
					name: "Node: GET /healthz (the app's stack around the same `select 1`) / baseline",
					value: `${fmt(stack.rps)} req/s = ${fmt((stack.rps / base.rps) * 100)} %`,
				},
				{
					name: "Node: validate / baseline",
					value: `${fmt(ratio * 100)} %`,
					target: "≥ 50 %",
					ok: ratio >= 0.5 && val.non2xx === 0,
				},
			],
		};
	} finally {
		child.kill("SIGTERM");
		await new Promise((ok) => child.once("exit", ok));
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
