/**
 * CI lease throughput on the Node entry: 50 concurrent jobs, each in a closed loop of acquire
 * (POST /api/v1/ci/leases with the org's API key) then release (DELETE with the lease token),
 * all in one org whose plan has 50 runner slots, so every acquisition takes the same org lock:
 * the worst case for one org. The figure is full round trips (acquire + release) per second
 * and their p99. Requests leave from many loopback addresses so the per-address lease limit
 * (600/min) does not decide the figure.
 *
 *   npx tsx bench/ci-leases.ts
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";
import postgres from "postgres";
import { hashApiKey } from "../src/ci/api-keys";
import { encodeBase64Url } from "../src/kernel/base64url";
import { importKeyPepper } from "../src/kernel/license-key";
import { type BenchRow, benchSecrets, fmt, freshDatabase } from "./lib";

const JOBS = Number(process.env.BENCH_CI_JOBS ?? 50);
const ADDRESSES_PER_JOB = 16;
const ORGS = Number(process.env.BENCH_CI_ORGS ?? 1);

const agents = new Map<string, Agent>();
function call(
	url: string,
	method: string,
	from: string,
	bearer: string,
	body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | null }> {
	let agent = agents.get(from);
	if (!agent) {
		agent = new Agent({ keepAlive: true, localAddress: from });
		agents.set(from, agent);
	}
	const data = body === undefined ? undefined : JSON.stringify(body);
	return new Promise((ok, fail) => {
		const req = request(
			url,
			{
				method,
				agent,
				headers: {
					authorization: `Bearer ${bearer}`,
					...(data ? { "content-type": "application/json" } : {}),
				},
			},
			(res) => {
				let text = "";
				res.setEncoding("utf8");
				res.on("data", (c: string) => {
					text += c;
				});
				res.on("end", () => {
					let json: Record<string, unknown> | null = null;
					try {
						json = JSON.parse(text) as Record<string, unknown>;
					} catch {}
					ok({ status: res.statusCode ?? 0, json });
				});
			},
		);
		req.on("error", fail);
		req.end(data);
	});
}

const percentile = (sorted: number[], p: number): number =>
	sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export async function runCiLeaseBench(seconds = 8): Promise<{ rows: BenchRow[] }> {
	const database = await freshDatabase();
	const secrets = await benchSecrets();
	const child = spawn(process.execPath, ["--import", "tsx", "bench/serve-node.ts"], {
		env: {
			...process.env,
			DATABASE_URL: database.url,
			...secrets,
			PUBLIC_URL: "http://127.0.0.1",
			NODE_ENV: "production",
		},
		stdio: ["ignore", "pipe", "inherit"],
	});
	const sql = postgres(database.url, { max: 2, onnotice: () => {} });
	try {
		const first = await new Promise<string>((ok, fail) => {
			createInterface({ input: child.stdout }).once("line", ok);
			child.once("exit", (code) => fail(new Error(`bench server exited ${code}`)));
		});
		const { url } = JSON.parse(first) as { url: string };
		// One org, a plan with a slot per job: every acquisition succeeds and contends for one lock.
		const key = `cdt_ci_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
		const pepper = await importKeyPepper(secrets.LICENSE_KEY_PEPPER);
		await sql`insert into plans (id, name, entitlements, monthly_price_cents, annual_price_cents)
			values ('bench_ci', 'Bench CI', ${sql.json({ activations_per_seat: 1, seats: 1, ci_runners: JOBS, features: [] })}, 0, 0)`;
		// BENCH_CI_ORGS spreads the jobs over more orgs (one key each), to see the lock's share.
		const keys: string[] = [];
		for (let o = 0; o < ORGS; o++) {
			const k =
				o === 0 ? key : `cdt_ci_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
			keys.push(k);
			await sql`insert into orgs (id, name) values (${`org_bench${o}`}, 'bench')`;
			await sql`insert into licenses (id, key_hash, key_last4, plan_id, org_id, max_activations)
				values (${`lic_bench_ci${o}`}, ${`bench-ci-no-key-${o}`}, 'none', 'bench_ci', ${`org_bench${o}`}, 0)`;
			await sql`insert into org_api_keys (id, org_id, name, key_hash, key_last4)
				values (${`cik_bench${o}`}, ${`org_bench${o}`}, 'bench', ${await hashApiKey(pepper, k)}, ${k.slice(-4)})`;
		}

		const pairs: number[] = [];
		const acquires: number[] = [];
		let failures = 0;
		let seq = 0;
		const job = async (j: number, until: number, record: boolean): Promise<void> => {
			for (let i = 0; performance.now() < until; i++) {
				const from = `127.3.${j}.${(i % ADDRESSES_PER_JOB) + 1}`;
				const started = performance.now();
				const leased = await call(`${url}/api/v1/ci/leases`, "POST", from, keys[j % ORGS] ?? key, {
					job_id: `bench-${j}-${seq++}`,
				});
				const acquired = performance.now();
				const id = leased.json?.lease_id;
				const token = leased.json?.token;
				if (leased.status !== 201 || typeof id !== "string" || typeof token !== "string") {
					failures++;
					continue;
				}
				const released = await call(`${url}/api/v1/ci/leases/${id}`, "DELETE", from, token);
				if (released.status !== 204) failures++;
				if (record) {
					acquires.push(acquired - started);
					pairs.push(performance.now() - started);
				}
			}
		};
		const warm = performance.now() + 2000;
		await Promise.all(Array.from({ length: JOBS }, (_, j) => job(j, warm, false)));
		failures = 0;
		const t0 = performance.now();
		const end = t0 + seconds * 1000;
		await Promise.all(Array.from({ length: JOBS }, (_, j) => job(j, end, true)));
		const elapsed = (performance.now() - t0) / 1000;
		pairs.sort((a, b) => a - b);
		acquires.sort((a, b) => a - b);
		const rate = pairs.length / elapsed;
		return {
			rows: [
				{
					name: `CI lease acquire + release round trips, ${JOBS} concurrent jobs in ${ORGS === 1 ? "one org" : `${ORGS} orgs`} (Node)`,
					value: `${fmt(rate)}/s, p50 ${fmt(percentile(pairs, 50), 1)} ms, p99 ${fmt(percentile(pairs, 99), 1)} ms (acquire alone p99 ${fmt(percentile(acquires, 99), 1)} ms; ${failures} failed)`,
					// No throughput target yet: the first figures here were CPU-bound (the same with the
					// jobs spread over 50 orgs, so not the org lock) on a shared 2-core machine.
					target: "0 failed",
					ok: failures === 0,
				},
			],
		};
	} finally {
		for (const agent of agents.values()) agent.destroy();
		agents.clear();
		child.kill("SIGTERM");
		await sql.end({ timeout: 2 });
		await database.drop();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	for (const r of (await runCiLeaseBench()).rows) console.log(`${r.name}: ${r.value}`);
}
