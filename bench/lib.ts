/** Shared pieces of the benchmarks: fresh databases, seeded licenses, wrk runs, result rows. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import postgres from "postgres";
import {
	generateLicenseKey,
	generateSigningKeyPair,
	hashLicenseKey,
	importKeyPepper,
	licenseKeyLast4,
} from "../src/kernel/index";

export interface BenchRow {
	name: string;
	value: string;
	target?: string;
	ok?: boolean;
}

export const SERVER_URL =
	process.env.BENCH_DATABASE_URL ??
	process.env.TEST_DATABASE_URL ??
	"postgres://postgres@127.0.0.1:5432/postgres";

/** Fresh secrets for a benchmark's server: a new signing key, pepper and JWT secret each run. */
export async function benchSecrets(): Promise<{
	LICENSE_SIGNING_KEY: string;
	LICENSE_KEY_PEPPER: string;
	JWT_SECRET: string;
}> {
	const pair = await generateSigningKeyPair();
	return {
		LICENSE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
		LICENSE_KEY_PEPPER: randomBytes(32).toString("base64url"),
		JWT_SECRET: randomBytes(32).toString("base64url"),
	};
}

/** A database of its own for one benchmark, migrated by whoever starts the server on it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
	const name = `coditect_bench_${Date.now()}_${randomBytes(3).toString("hex")}`;
	const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
	await admin.unsafe(`create database ${name}`);
	const u = new URL(SERVER_URL);
	u.pathname = `/${name}`;
	return {
		url: u.toString(),
		async drop() {
			await admin.unsafe(`drop database if exists ${name} with (force)`);
			await admin.end();
		},
	};
}

/** Inserts `n` licenses, each with one activation, straight into the database. */
export async function seedLicenses(
	url: string,
	pepperSecret: string,
	n: number,
): Promise<Array<{ key: string; hw: string }>> {
	const pepper = await importKeyPepper(pepperSecret);
	const sql = postgres(url, { max: 4, onnotice: () => {} });
	const out: Array<{ key: string; hw: string }> = [];
	for (let start = 0; start < n; start += 1000) {
		const rows: Array<Record<string, unknown>> = [];
		const acts: Array<Record<string, unknown>> = [];
		for (let i = start; i < Math.min(n, start + 1000); i++) {
			const key = generateLicenseKey();
			const id = `lic_bench${i.toString().padStart(12, "0")}`;
			const hw = randomBytes(32).toString("hex");
			rows.push({
				id,
				key_hash: await hashLicenseKey(pepper, key),
				key_last4: licenseKeyLast4(key),
				plan_id: "professional",
				max_activations: 3,
				source: "admin",
			});
			acts.push({
				id: `act_bench${i.toString().padStart(12, "0")}`,
				license_id: id,
				hardware_id: hw,
			});
			out.push({ key, hw });
		}
		await sql`insert into licenses ${sql(rows)}`;
		await sql`insert into activations ${sql(acts)}`;
	}
	await sql.end();
	return out;
}

export interface WrkResult {
	rps: number;
	p50ms: number;
	p99ms: number;
	non2xx: number;
	requests: number;
}

/** Runs wrk (closed loop: the figures are throughput at saturation, latency under that load). */
export async function wrk(opts: {
	url: string;
	script?: string;
	seconds: number;
	connections: number;
	threads?: number;
}): Promise<WrkResult> {
	const args = [
		"-t",
		String(opts.threads ?? 1),
		"-c",
		String(opts.connections),
		"-d",
		`${opts.seconds}s`,
		"--latency",
	];
	if (opts.script) args.push("-s", opts.script);
	args.push(opts.url);
	const out = await run("wrk", args);
	const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? Number.NaN);
	const toMs = (v: string, unit: string): number =>
		Number(v) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : 1);
	const lat = (p: string): number => {
		const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
		return m ? toMs(m[1] ?? "", m[2] ?? "ms") : Number.NaN;
	};
	return {
		rps: num(/Requests\/sec:\s+([\d.]+)/),
		p50ms: lat("50"),
		p99ms: lat("99"),
		non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
		requests: num(/(\d+) requests in/),
	};
}

/** A wrk Lua script that POSTs JSON bodies chosen round-robin from `bodies`. */
export async function wrkPostScript(path: string, bodies: string[]): Promise<string> {
	const lua = `
local bodies = {${bodies.map((b) => JSON.stringify(b)).join(",\n")}}
local n = #bodies
local i = math.random(n)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % n + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
`;
	await writeFile(path, lua);
	return path;
}

export function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
	return new Promise((ok, fail) => {
		const child = spawn(cmd, args, { env: env ?? process.env });
		let out = "";
		child.stdout.on("data", (d: Buffer) => {
			out += d.toString();
		});
		child.stderr.on("data", (d: Buffer) => {
			out += d.toString();
		});
		child.on("error", fail);
		child.on("close", (code) =>
			code === 0 ? ok(out) : fail(new Error(`${cmd} exited ${code}: ${out.slice(-400)}`)),
		);
	});
}

export function hasCommand(cmd: string): Promise<boolean> {
	return run("sh", ["-c", `command -v ${cmd}`]).then(
		() => true,
		() => false,
	);
}

export const fmt = (n: number, digits = 0): string =>
	n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
