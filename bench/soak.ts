/**
 * Soak: the Node server (own process, real Postgres) under a moderate, steady open-loop load
 * for 10 minutes (SOAK_SECONDS to change): validates over 10,000 seeded licenses, activations
 * and deactivations, failed logins from rotating addresses. Every 10 s it samples the server's
 * memory (heap right after a full GC, and RSS) and the database's `idle in transaction`
 * connections. Passes when there is no 5xx, never an idle-in-transaction connection, and
 * memory is flat: the last minute's post-GC heap within 10 MB (or 20 %) of the second minute's,
 * RSS within 64 MB (or 50 %).
 *
 *   npm run test:soak        # BENCH_DATABASE_URL / TEST_DATABASE_URL, else 127.0.0.1:5432
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { generateLicenseKey } from "../src/kernel/index";
import { benchSecrets, freshDatabase, seedLicenses } from "./lib";
import {
	closeAgents,
	ms,
	printTable,
	runStream,
	type Sample,
	startProbeServer,
	summarize,
} from "./open-loop";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const VALIDATE_RATE = 80;
const ACTIVATE_RATE = 4; // activate then deactivate: 8 writes/s
const LOGIN_RATE = 2;

const db = await freshDatabase();
const secrets = await benchSecrets();
const pepper = secrets.LICENSE_KEY_PEPPER;
const server = await startProbeServer({
	DATABASE_URL: db.url,
	...secrets,
	PROBE_MS: "10000",
});
const probe = postgres(db.url, { max: 1, onnotice: () => {} });
let ok = false;
try {
	const seeded = await seedLicenses(db.url, pepper, 10_000);
	// A transaction between two of its statements is briefly "idle in transaction" (the
	// backend waits for the client's next round trip); a leaked one stays so. Both are counted:
	// the criterion is on those idle in transaction for over a second, and on the count once
	// the load has stopped.
	const idleInTx: Array<{ any: number; stuck: number }> = [];
	const sampleIdle = () =>
		probe<[{ any: number; stuck: number }]>`
			select count(*)::int as any,
				(count(*) filter (where now() - state_change > interval '1 second'))::int as stuck
			from pg_stat_activity
			where datname = current_database() and state like 'idle in transaction%'`.then(
			([row]) => row ?? { any: -1, stuck: -1 },
		);
	const sampler = setInterval(() => {
		sampleIdle()
			.then((row) => idleInTx.push(row))
			.catch(() => idleInTx.push({ any: -1, stuck: -1 }));
	}, 10_000);
	const started = Date.now();
	console.log(`soak: ${SECONDS} s against ${server.url} (server pid ${server.pid})`);

	// Activations cycle over the seeded licenses' spare seats (each has 3, one used): a new
	// machine activates, then the same machine deactivates, so no license ever fills up.
	// Each key takes at most one activation per 1000 s (activate allows 10 per hour).
	const hw = () => randomBytes(32).toString("hex");
	const cycle: Array<{ key: string; hw: string }> = [];
	const [validates, activations, deactivations, logins] = await Promise.all([
		runStream(server.url, {
			name: "validate",
			rate: VALIDATE_RATE,
			seconds: SECONDS,
			body: (i) => {
				const s = seeded[i % seeded.length];
				return {
					path: "/api/v1/licenses/validate",
					json: { license_key: s?.key, hardware_id: s?.hw },
				};
			},
		}),
		runStream(server.url, {
			name: "activate",
			rate: ACTIVATE_RATE,
			seconds: SECONDS,
			connections: 8,
			body: (i) => {
				const s = seeded[(seeded.length - 1 - i) % seeded.length];
				const entry = { key: s?.key ?? generateLicenseKey(), hw: hw() };
				cycle[i] = entry;
				return {
					path: "/api/v1/licenses/activate",
					json: { license_key: entry.key, hardware_id: entry.hw },
				};
			},
		}),
		// Ten seconds behind (far more than an activation takes), the same machines deactivate.
		new Promise<Sample[]>((r) => setTimeout(r, 10_000)).then(() =>
			runStream(server.url, {
				name: "deactivate",
				rate: ACTIVATE_RATE,
				seconds: SECONDS - 10,
				connections: 8,
				body: (i) => ({
					path: "/api/v1/licenses/deactivate",
					json: { license_key: cycle[i]?.key, hardware_id: cycle[i]?.hw },
				}),
			}),
		),
		runStream(server.url, {
			name: "login",
			rate: LOGIN_RATE,
			seconds: SECONDS,
			connections: 4,
			body: (i) => ({
				path: "/api/v1/auth/login",
				json: { email: `soak-${i}@example.test`, password: "not the password" },
				// login allows 5 per minute per address: 64 rotating client addresses stay under it.
				from: `127.2.0.${(i % 64) + 1}`,
			}),
		}),
	]);
	clearInterval(sampler);
	// One more look once the load has stopped: nothing left open.
	await new Promise((r) => setTimeout(r, 1000));
	const after = await sampleIdle();
	const elapsed = (Date.now() - started) / 1000;

	const mb = (b: number) => b / 1024 / 1024;
	const window = (fromS: number, toS: number) =>
		server.memory.filter((m) => m.at - started >= fromS * 1000 && m.at - started < toS * 1000);
	const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
	const early = window(Math.min(60, SECONDS / 5), Math.min(120, (2 * SECONDS) / 5));
	const late = window(SECONDS - Math.min(60, SECONDS / 5), SECONDS + 5);
	const heapEarly = mb(mean(early.map((m) => m.heapUsed)));
	const heapLate = mb(mean(late.map((m) => m.heapUsed)));
	const rssEarly = mb(mean(early.map((m) => m.rss)));
	const rssLate = mb(mean(late.map((m) => m.rss)));
	const all = [...validates, ...activations, ...deactivations, ...logins];
	const sum = summarize(all);
	const v = summarize(validates);
	const a = summarize(activations);
	const d = summarize(deactivations);
	const l = summarize(logins);
	const heapOk = heapLate - heapEarly <= Math.max(10, heapEarly * 0.2);
	const rssOk = rssLate - rssEarly <= Math.max(64, rssEarly * 0.5);
	const maxStuck = Math.max(...idleInTx.map((x) => x.stuck));
	const maxAny = Math.max(...idleInTx.map((x) => x.any));
	const status = (s: ReturnType<typeof summarize>) =>
		Object.entries(s.byStatus)
			.map(([k, n]) => `${k}×${n}`)
			.join(" ");
	ok = printTable(
		`Soak: ${Math.round(elapsed)} s, ${sum.requests} requests (${VALIDATE_RATE} validate + ${ACTIVATE_RATE} activate + ${ACTIVATE_RATE} deactivate + ${LOGIN_RATE} login per second), server in its own process`,
		[
			["5xx (or no answer)", String(sum.fivexx), "0", sum.fivexx === 0],
			[
				"validate p50 / p99 / max",
				`${ms(v.p50)} / ${ms(v.p99)} / ${ms(v.max)} (${status(v)})`,
				"all 200",
				v.byStatus["200"] === v.requests,
			],
			[
				"activate / deactivate",
				`${status(a)} / ${status(d)}, p99 ${ms(a.p99)} / ${ms(d.p99)}`,
				"201 / 200",
				a.byStatus["201"] === a.requests && d.byStatus["200"] === d.requests,
			],
			[
				"login (unknown users) p99",
				`${ms(l.p99)} (${status(l)})`,
				"401",
				l.byStatus["401"] === l.requests,
			],
			[
				"heap after GC, 2nd minute → last minute",
				`${heapEarly.toFixed(1)} → ${heapLate.toFixed(1)} MB`,
				"≤ +10 MB or +20 %",
				heapOk,
			],
			[
				"RSS, 2nd minute → last minute",
				`${rssEarly.toFixed(0)} → ${rssLate.toFixed(0)} MB`,
				"≤ +64 MB or +50 %",
				rssOk,
			],
			[
				"idle in transaction > 1 s (max of samples every 10 s)",
				`${maxStuck} (${idleInTx.length} samples; momentarily between statements: max ${maxAny})`,
				"0",
				maxStuck === 0,
			],
			["idle in transaction after the load", String(after.any), "0", after.any === 0],
		],
	);
	console.log(
		`\nmemory samples (MB, heap/RSS): ${server.memory
			.filter((_, i) => i % 6 === 0)
			.map(
				(m) =>
					`${Math.round((m.at - started) / 1000)}s ${mb(m.heapUsed).toFixed(1)}/${mb(m.rss).toFixed(0)}`,
			)
			.join(", ")}`,
	);
} finally {
	closeAgents();
	await probe.end();
	await server.stop();
	await db.drop();
}
process.exit(ok ? 0 : 1);
