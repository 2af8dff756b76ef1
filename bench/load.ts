/**
 * Load, loopback only, bounded in time (about 2 minutes): the Node server in its own process
 * on a fresh real-Postgres database, driven open-loop from this process (bench/open-loop.ts:
 * latency from each request's intended send time, so a stall is not hidden by coordinated
 * omission).
 *
 * 1. validate at LOAD_RATE req/s (default 300) for 60 s over 10,000 seeded licenses (each key
 *    ~2 requests a minute, far from its 60/min limit): zero 5xx, p50/p99 reported.
 * 2. At the same time one key at 10 req/s for 60 s: ~60 accepted (limit 60/min), rest 429.
 * 3. Then a login flood, 100 req/s for 10 s from one address, while 20 other addresses log in
 *    every 2 s: the flood is 429'd after its 5th attempt; the others are never 429'd and stay
 *    fast (p99 under 1 s; each login pays one Argon2id hash by design).
 *
 *   npm run test:load        # BENCH_DATABASE_URL / TEST_DATABASE_URL, else 127.0.0.1:5432
 */
import { benchSecrets, freshDatabase, seedLicenses } from "./lib";
import { closeAgents, ms, printTable, runStream, startProbeServer, summarize } from "./open-loop";

const RATE = Number(process.env.LOAD_RATE ?? 300);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);

const db = await freshDatabase();
const secrets = await benchSecrets();
const pepper = secrets.LICENSE_KEY_PEPPER;
const server = await startProbeServer({
	DATABASE_URL: db.url,
	...secrets,
	PROBE_MS: "60000",
});
let ok = false;
try {
	const seeded = await seedLicenses(db.url, pepper, 10_001);
	const single = seeded.pop();
	if (!single) throw new Error("seeding failed");
	console.log(`load: validate at ${RATE} req/s for ${SECONDS} s against ${server.url}`);
	// Warm-up (connections, JIT), not counted.
	await runStream(server.url, {
		name: "warm-up",
		rate: 50,
		seconds: 2,
		body: (i) => ({
			path: "/api/v1/licenses/validate",
			json: { license_key: seeded[i]?.key, hardware_id: seeded[i]?.hw },
		}),
	});
	const offset = 100; // the warm-up used the first keys
	const [validates, oneKey] = await Promise.all([
		runStream(server.url, {
			name: "validate",
			rate: RATE,
			seconds: SECONDS,
			body: (i) => {
				const s = seeded[(offset + i) % seeded.length];
				return {
					path: "/api/v1/licenses/validate",
					json: { license_key: s?.key, hardware_id: s?.hw },
				};
			},
		}),
		runStream(server.url, {
			name: "one key",
			rate: 10,
			seconds: SECONDS,
			connections: 4,
			body: () => ({
				path: "/api/v1/licenses/validate",
				json: { license_key: single.key, hardware_id: single.hw },
			}),
		}),
	]);

	const [flood, others] = await Promise.all([
		runStream(server.url, {
			name: "flood",
			rate: 100,
			seconds: 10,
			from: "127.3.0.1",
			connections: 32,
			body: (i) => ({
				path: "/api/v1/auth/login",
				json: { email: `victim-${i % 3}@example.test`, password: `a wrong guess, number ${i}` },
			}),
		}),
		runStream(server.url, {
			name: "others",
			rate: 10,
			seconds: 10,
			connections: 4,
			body: (i) => ({
				path: "/api/v1/auth/login",
				json: { email: `user-${i}@example.test`, password: "a wrong password" },
				from: `127.4.0.${(i % 20) + 1}`,
			}),
		}),
	]);

	const v = summarize(validates);
	const k = summarize(oneKey);
	const f = summarize(flood);
	const o = summarize(others);
	const accepted = k.byStatus["200"] ?? 0;
	const status = (s: ReturnType<typeof summarize>) =>
		Object.entries(s.byStatus)
			.map(([code, n]) => `${code}×${n}`)
			.join(" ");
	const achieved = v.requests / SECONDS;
	ok = printTable(
		`Load: Node server (own process, pool 20) on real Postgres, loopback, open loop; latency from the intended send time`,
		[
			[
				`validate ${RATE} req/s × ${SECONDS} s over 10,000 keys: 5xx`,
				`${v.fivexx} of ${v.requests} (${status(v)})`,
				"0, all 200",
				v.fivexx === 0 && v.byStatus["200"] === v.requests,
			],
			[
				"validate latency p50 / p90 / p99 / max",
				`${ms(v.p50)} / ${ms(v.p90)} / ${ms(v.p99)} / ${ms(v.max)}`,
				"reported",
				true,
			],
			[
				`achieved validate rate`,
				`${achieved.toFixed(0)} req/s`,
				`${RATE} req/s`,
				achieved >= RATE * 0.98,
			],
			[
				`one key at 10 req/s × ${SECONDS} s: accepted`,
				`${accepted} (${status(k)})`,
				"~60 (55–65), rest 429",
				accepted >= 55 && accepted <= 65 && accepted + (k.byStatus["429"] ?? 0) === k.requests,
			],
			[
				"login flood, 100 req/s × 10 s from one address",
				`${status(f)}`,
				"5 answered, rest 429",
				(f.byStatus["401"] ?? 0) === 5 && (f.byStatus["429"] ?? 0) === f.requests - 5,
			],
			[
				"meanwhile logins from 20 other addresses: p50 / p99",
				`${ms(o.p50)} / ${ms(o.p99)} (${status(o)})`,
				"never 429, p99 < 1 s",
				(o.byStatus["429"] ?? 0) === 0 && o.fivexx === 0 && o.p99 < 1000,
			],
		],
	);
} finally {
	closeAgents();
	await server.stop();
	await db.drop();
}
process.exit(ok ? 0 : 1);
