/**
 * validate inside workerd (the Worker bundle that `wrangler deploy` ships), against a same-run
 * baseline Worker whose one route does a `select 1` with the same postgres.js settings. Both
 * reach Postgres through pgbouncer, the local stand-in for Hyperdrive's pooling (local
 * Hyperdrive opens a fresh, SCRAM-authenticated connection per request, ~13 ms each here).
 * Served by Miniflare's workerd directly (no wrangler dev proxy in the path); load from wrk.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { createDb, createSql } from "../src/db/client";
import { migrateDatabase } from "../src/node/database";
import {
	type BenchRow,
	benchSecrets,
	fmt,
	freshDatabase,
	hasCommand,
	run,
	seedLicenses,
	wrk,
	wrkPostScript,
} from "./lib";

export const COMPAT = { compatibilityDate: "2026-10-01", compatibilityFlags: ["nodejs_compat"] };

export async function runValidateWorkerdBench(
	opts: { seconds?: number } = {},
): Promise<{ rows: BenchRow[]; ratio: number | null }> {
	if (!(await hasCommand("pgbouncer")) || !(await hasCommand("wrk"))) {
		return {
			ratio: null,
			rows: [
				{
					name: "workerd: validate / baseline",
					value: "not run: needs pgbouncer and wrk (apt-get install pgbouncer wrk)",
					ok: false,
				},
			],
		};
	}
	const seconds = opts.seconds ?? 10;
	const dir = await mkdtemp(join(tmpdir(), "coditect-workerd-"));
	const db = await freshDatabase();
	const sql = createSql(db.url, { max: 1 });
	await migrateDatabase(createDb(sql));
	await sql.end();
	const bouncer = await startPgbouncer(dir, db.url);
	const viaBouncer = bouncer.url;
	const secrets = await benchSecrets();
	const pepper = secrets.LICENSE_KEY_PEPPER;
	const app = await workerFromBundle(
		dir,
		{
			PUBLIC_URL: "http://127.0.0.1",
			...secrets,
		},
		viaBouncer,
	);
	const baseline = await baselineWorker(viaBouncer);
	try {
		const appUrl = (await app.ready).toString().replace(/\/$/, "");
		const baseUrl = (await baseline.ready).toString().replace(/\/$/, "");
		// Fewer keys than on Node, each validated once before measuring: every key has its own
		// rate-limit Durable Object, and creating one (a new SQLite database locally) is not what
		// a steady-state validate costs.
		const seeded = await seedLicenses(db.url, pepper, 1500);
		const script = await wrkPostScript(
			join(dir, "validate.lua"),
			seeded.map((s) => JSON.stringify({ license_key: s.key, hardware_id: s.hw })),
		);
		const connections = 16;
		await wrk({ url: `${baseUrl}/select1`, seconds: 2, connections });
		await wrk({ url: `${appUrl}/api/v1/licenses/validate`, script, seconds: 10, connections });
		const base = await wrk({ url: `${baseUrl}/select1`, seconds, connections });
		const val = await wrk({
			url: `${appUrl}/api/v1/licenses/validate`,
			script,
			seconds,
			connections,
		});
		const stack = await wrk({ url: `${appUrl}/healthz`, seconds, connections });
		const ratio = val.rps / base.rps;
		return {
			ratio,
			rows: [
				{
					name: "workerd: baseline `select 1` Worker (pgbouncer)",
					value: `${fmt(base.rps)} req/s, p50 ${fmt(base.p50ms, 2)} ms, p99 ${fmt(base.p99ms, 2)} ms, non-2xx ${base.non2xx}`,
				},
				{
					name: "workerd: POST /api/v1/licenses/validate (pgbouncer)",
					value: `${fmt(val.rps)} req/s, p50 ${fmt(val.p50ms, 2)} ms, p99 ${fmt(val.p99ms, 2)} ms, non-2xx ${val.non2xx}`,
				},
				{
					name: "workerd: GET /healthz (the app's stack around the same `select 1`) / baseline",
					value: `${fmt(stack.rps)} req/s = ${fmt((stack.rps / base.rps) * 100)} %`,
				},
				{
					name: "workerd: validate / baseline",
					value: `${fmt(ratio * 100)} %`,
					target: "≥ 50 %",
					ok: ratio >= 0.5 && val.non2xx === 0,
				},
			],
		};
	} finally {
		await app.dispose();
		await baseline.dispose();
		await bouncer.stop();
		await db.drop();
	}
}

/** The production bundle (`wrangler deploy --dry-run`), run with the bindings wrangler.toml declares. */
export async function workerFromBundle(
	dir: string,
	secrets: Record<string, string>,
	databaseUrl: string,
): Promise<Miniflare> {
	const out = join(dir, "worker");
	await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out]);
	const modules = [];
	for (const file of await readdir(out)) {
		if (file.endsWith(".map") || file === "README.md") continue;
		const contents = await readFile(join(out, file));
		modules.push({
			type: file.endsWith(".wasm") ? ("CompiledWasm" as const) : ("ESModule" as const),
			path: file,
			contents,
		});
	}
	modules.sort((a, b) => (a.path === "worker.js" ? -1 : b.path === "worker.js" ? 1 : 0));
	return new Miniflare(
		convertV4MiniflareOptions({
			workers: [
				{
					name: "coditect",
					modules,
					...COMPAT,
					bindings: {
						...secrets,
						ENABLE_PILOT_SIGNUP: "false",
						AUDIT_RETENTION_DAYS: "365",
						PAYMENT_GRACE_DAYS: "7",
					},
					hyperdrives: { HYPERDRIVE: databaseUrl, HYPERDRIVE_FRESH: databaseUrl },
					durableObjects: { RATE_LIMITER: "RateLimiterObject" },
				},
			],
		}),
	);
}

async function baselineWorker(databaseUrl: string): Promise<Miniflare> {
	const entry = `
		import postgres from "postgres";
		export default {
			async fetch(req, env) {
				// Same client settings as the app's per-request client (src/db/client.ts).
				const sql = postgres(env.HYPERDRIVE.connectionString, { max: 5, fetch_types: false, connect_timeout: 5 });
				await sql\`select 1\`;
				return Response.json({ ok: true });
			},
		};`;
	const built = await build({
		stdin: { contents: entry, resolveDir: process.cwd(), loader: "js" },
		bundle: true,
		format: "esm",
		platform: "neutral",
		conditions: ["workerd", "worker", "browser"],
		mainFields: ["module", "main"],
		external: ["cloudflare:*", "node:*"],
		write: false,
	});
	return new Miniflare(
		convertV4MiniflareOptions({
			workers: [
				{
					name: "baseline",
					modules: [
						{ type: "ESModule", path: "baseline.mjs", contents: built.outputFiles[0]?.text ?? "" },
					],
					...COMPAT,
					hyperdrives: { HYPERDRIVE: databaseUrl },
				},
			],
		}),
	);
}

/** pgbouncer in session mode on a free port: pooled server connections behind short-lived clients. */
export async function startPgbouncer(
	dir: string,
	databaseUrl: string,
): Promise<{ url: string; stop(): Promise<void> }> {
	const target = new URL(databaseUrl);
	const port = 20_000 + Math.floor(Math.random() * 20_000);
	const ini = join(dir, "pgbouncer.ini");
	await writeFile(join(dir, "users.txt"), `"${target.username || "postgres"}" ""\n`);
	await writeFile(
		ini,
		`[databases]
* = host=${target.hostname} port=${target.port || 5432}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, "users.txt")}
pool_mode = session
default_pool_size = 20
max_client_conn = 4000
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
logfile = ${join(dir, "pgbouncer.log")}
`,
	);
	await run("chmod", ["-R", "a+rwX", dir]);
	// pgbouncer refuses to run as root; -u drops to the postgres user.
	const args = process.getuid?.() === 0 ? ["-u", "postgres", ini] : [ini];
	const child = spawn("pgbouncer", args, { stdio: "ignore" });
	const url = new URL(databaseUrl);
	url.port = String(port);
	url.password ||= "postgres"; // Miniflare's Hyperdrive insists on one; trust auth ignores it
	for (let i = 0; i < 50; i++) {
		try {
			await run("pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-q"]);
			break;
		} catch {
			await new Promise((r) => setTimeout(r, 100));
		}
	}
	return {
		url: url.toString(),
		async stop() {
			child.kill("SIGTERM");
			await new Promise((r) => child.once("exit", r));
		},
	};
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const { rows } = await runValidateWorkerdBench();
	for (const r of rows)
		console.log(
			`${r.name}: ${r.value}${r.target ? ` (target ${r.target}: ${r.ok ? "met" : "NOT met"})` : ""}`,
		);
}
