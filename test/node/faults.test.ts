/**
 * Faults on the Node entry, without touching the machine's shared Postgres: a TCP proxy
 * between the server's pool and the database plays "Postgres stopped" (every connection cut,
 * new ones refused) and "Postgres back"; pg_terminate_backend kills the backend of one open
 * activation transaction. Nothing restarts the server in between.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateLicenseKey } from "../../src/kernel/index";
import type { RunningServer } from "../../src/server";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";
import {
	closeAgents,
	createLicense,
	type HttpResponse,
	hardwareId,
	http,
	isRealPostgres,
	nodeServer,
	testSql,
} from "./support";

// The server logs each 503's cause; collected here instead of flooding the test output.
const logged: string[] = [];
beforeAll(() => {
	vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
		logged.push(args.map(String).join(" "));
	});
});
afterAll(() => {
	closeAgents();
	vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
	at: number;
	status: number;
	ms: number;
	retryAfter: string | undefined;
	code: string | undefined;
}

/** Eight clients validating unknown keys (one query each, no rate limit hit) until stopped. */
function validateLoad(url: string): { answers: Answer[]; stop(): Promise<void> } {
	const answers: Answer[] = [];
	let running = true;
	const loops = Array.from({ length: 8 }, async () => {
		while (running) {
			const res: HttpResponse<{ error?: { code?: string } }> = await http(
				`${url}/api/v1/licenses/validate`,
				{ json: { license_key: generateLicenseKey(), hardware_id: hardwareId("load") } },
			);
			const retryAfter = res.headers["retry-after"];
			answers.push({
				at: performance.now(),
				status: res.status,
				ms: res.ms,
				retryAfter: typeof retryAfter === "string" ? retryAfter : undefined,
				code: res.body?.error?.code,
			});
			await sleep(10);
		}
	});
	return {
		answers,
		async stop() {
			running = false;
			await Promise.all(loops);
		},
	};
}

async function until(what: string, check: () => Promise<boolean>, withinMs: number) {
	const deadline = performance.now() + withinMs;
	while (performance.now() < deadline) {
		if (await check()) return;
		await sleep(50);
	}
	throw new Error(`not within ${withinMs} ms: ${what}`);
}

describe("Postgres stopped under load", () => {
	let proxy: TcpProxy;
	let server: RunningServer;
	beforeAll(async () => {
		proxy = await startTcpProxy((await import("vitest")).inject("databaseUrl"));
		server = await nodeServer({ databaseUrl: proxy.url });
	});
	afterAll(async () => {
		await server.close();
		await proxy.close();
	});

	it("answers 503 SERVICE_UNAVAILABLE with Retry-After within seconds, never a 500, and serves again by itself when Postgres is back", async () => {
		const load = validateLoad(server.url);
		await sleep(1000);
		const stoppedAt = performance.now();
		await proxy.stop();
		await until(
			"a 503 after the database went away",
			async () => load.answers.some((a) => a.at > stoppedAt && a.status === 503),
			6000,
		);
		const first503 = load.answers.find((a) => a.at > stoppedAt && a.status === 503);
		const health = await http(`${server.url}/healthz`);
		expect(health.status, health.text).toBe(503);
		await sleep(2000);

		const restartedAt = performance.now();
		await proxy.start();
		await until(
			"a 200 after the database came back",
			async () => load.answers.some((a) => a.at > restartedAt && a.status === 200),
			15_000,
		);
		const firstOk = load.answers.find((a) => a.at > restartedAt && a.status === 200);
		await sleep(1000);
		await load.stop();

		const during = load.answers.filter((a) => a.at > stoppedAt);
		const statuses = [...new Set(load.answers.map((a) => a.status))].sort();
		// Only answers and "try again": no 500, no hang (each answer bounded by connect_timeout).
		expect(statuses, JSON.stringify(statuses)).toEqual([200, 503]);
		for (const a of during.filter((x) => x.status === 503)) {
			expect(a.code).toBe("SERVICE_UNAVAILABLE");
			expect(a.retryAfter).toMatch(/^\d+$/);
		}
		expect(Math.max(...during.map((a) => a.ms))).toBeLessThan(6000);
		// After the first success, service stays up.
		const after = load.answers.filter((a) => firstOk && a.at > firstOk.at);
		expect(after.every((a) => a.status === 200)).toBe(true);
		expect((await http(`${server.url}/healthz`)).status).toBe(200);
		console.log(
			`[faults] first 503 ${Math.round((first503?.at ?? 0) - stoppedAt)} ms after the cut; ` +
				`slowest answer during the outage ${Math.round(Math.max(...during.map((a) => a.ms)))} ms; ` +
				`first 200 ${Math.round((firstOk?.at ?? 0) - restartedAt)} ms after Postgres was back; ` +
				`${during.length} answers since the cut`,
		);
	});
});

describe("a backend lost in the middle of an activation", () => {
	// Real Postgres: the activation has inserted its row and waits to write its audit row (a
	// test transaction holds audit_logs in SHARE mode, in a database of its own so no other
	// suite waits), then its backend is terminated. The embedded database is one backend with
	// no pg_terminate_backend: there a test transaction holds it, the activation queues behind
	// it with its own transaction open, and the proxy cuts the server's connection.
	const name = isRealPostgres
		? "pg_terminate_backend between the activation row and its audit row leaves neither, answers 503, and the retry makes exactly one of each (real Postgres)"
		: "a connection cut while the activation waits on the database leaves no row, answers 503, and the retry makes exactly one activation and one audit row (embedded database: the proxy cuts it)";

	it(name, async () => {
		const { inject } = await import("vitest");
		const admin = testSql();
		let dbUrl = inject("databaseUrl");
		let dropDb: (() => Promise<void>) | undefined;
		if (isRealPostgres) {
			const dbName = `coditect_faults_${Date.now()}_${randomBytes(3).toString("hex")}`;
			await admin.unsafe(`create database ${dbName}`);
			const u = new URL(dbUrl);
			u.pathname = `/${dbName}`;
			dbUrl = u.toString();
			dropDb = async () => {
				await admin.unsafe(`drop database if exists ${dbName} with (force)`);
			};
		}
		const proxy = await startTcpProxy(dbUrl);
		const server = await nodeServer({ databaseUrl: proxy.url }); // migrates a fresh database
		const db = testSql(dbUrl);
		try {
			const { key, id } = await createLicense(server.url, { max_activations: 3 });
			const hw = hardwareId(`terminated-${id}`);
			// A test transaction that holds on until told to roll back.
			let letGo: () => void = () => {};
			const gate = new Promise<void>((r) => {
				letGo = r;
			});
			let held: () => void = () => {};
			const holding = new Promise<void>((r) => {
				held = r;
			});
			const holder = db
				.begin(async (tx) => {
					if (isRealPostgres) await tx`lock table audit_logs in share mode`;
					else await tx`select 1`;
					held();
					await gate;
					throw new Error("roll back");
				})
				.catch(() => {});
			await holding;
			const activation = http(`${server.url}/api/v1/licenses/activate`, {
				json: { license_key: key, hardware_id: hw },
			});
			if (isRealPostgres) {
				let pid: number | undefined;
				await until(
					"the activation waiting on audit_logs",
					async () => {
						const rows = await db<{ pid: number }[]>`
							select pid from pg_stat_activity
							where datname = current_database() and wait_event_type = 'Lock'
								and query ilike 'insert into "audit_logs"%'`;
						pid = rows[0]?.pid;
						return pid !== undefined;
					},
					5000,
				);
				// Its activation row exists inside its open transaction right now.
				await db`select pg_terminate_backend(${pid ?? 0})`;
			} else {
				await sleep(300);
				await proxy.stop();
				await proxy.start();
			}
			const cut = await activation;
			letGo();
			await holder;
			expect(cut.status, cut.text).toBe(503);

			const counts = async () => {
				const [row] = await db<[{ active: number; audited: number }]>`
					select
						(select count(*)::int from activations where license_id = ${id}) as active,
						(select count(*)::int from audit_logs where license_id = ${id}
							and action = 'license_activate' and result = 'success') as audited`;
				return row;
			};
			expect(await counts()).toEqual({ active: 0, audited: 0 });

			const retry = await http(`${server.url}/api/v1/licenses/activate`, {
				json: { license_key: key, hardware_id: hw },
			});
			expect(retry.status, retry.text).toBe(201);
			expect(await counts()).toEqual({ active: 1, audited: 1 });
		} finally {
			await server.close();
			await proxy.close();
			await db.end();
			await dropDb?.();
			await admin.end();
		}
	});
});
