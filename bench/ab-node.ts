/**
 * A/B of two checkouts of this repo: each one's bench/serve-node.ts on one fresh database,
 * validate under wrk in alternating short rounds, server CPU per request from /proc. Prints the
 * per-round figures and the median of the pairwise ratios: rounds next to each other share the
 * machine's state, so their ratio holds steadier than either figure on a shared machine.
 * Usage, with a worktree of the commit to compare against (its node_modules installed or
 * linked to this one's):
 *   git worktree add ../base <commit> && ln -s "$PWD/node_modules" ../base/node_modules
 *   AB=../base,. SECONDS=2 ROUNDS=16 npx tsx bench/ab-node.ts
 */
import type { ChildProcess } from "node:child_process";
import postgres from "postgres";
import { fmt, freshDatabase, seedLicenses, wrk, wrkPostScript } from "./lib";
import { serverEnv, start, ticks } from "./validate-reference";

const SCRIPT = "/tmp/coditect-ab.lua";
const dirs = (process.env.AB ?? "../base,.").split(",");
const seconds = Number(process.env.SECONDS ?? 2);
const rounds = Number(process.env.ROUNDS ?? 16);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const db = await freshDatabase();
const admin = postgres(db.url, { max: 1, onnotice: () => {} });
const children: ChildProcess[] = [];
try {
	const env = await serverEnv(db.url);
	const sides: Array<{ dir: string; pid: number; url: string; rps: number[]; us: number[] }> = [];
	for (const dir of dirs) {
		const { child, url } = await start("bench/serve-node.ts", env, dir);
		children.push(child);
		sides.push({
			dir,
			pid: child.pid ?? 0,
			url: `${url}/api/v1/licenses/validate`,
			rps: [],
			us: [],
		});
	}
	const seeded = await seedLicenses(db.url, env.LICENSE_KEY_PEPPER, 8000);
	await wrkPostScript(
		SCRIPT,
		seeded.map((s) => JSON.stringify({ license_key: s.key, hardware_id: s.hw })),
	);
	await admin`vacuum analyze`;
	for (const s of sides)
		await wrk({ url: s.url, script: SCRIPT, seconds: 4, connections: 16, threads: 2 });
	for (let r = 0; r < rounds; r++) {
		for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
			const t0 = await ticks([s.pid]);
			const w = await wrk({ url: s.url, script: SCRIPT, seconds, connections: 16, threads: 2 });
			const t1 = await ticks([s.pid]);
			if (w.non2xx > 0) console.log(`${s.dir}: ${w.non2xx} non-2xx answers (run invalid)`);
			s.rps.push(w.rps);
			s.us.push(((t1 - t0) * 10_000) / w.requests); // 1 tick = 10 ms
		}
	}
	for (const s of sides) {
		console.log(
			`${s.dir}: req/s ${s.rps.map((x) => fmt(x)).join(" ")} (median ${fmt(median(s.rps))}); server µs/req ${s.us.map((x) => fmt(x)).join(" ")} (median ${fmt(median(s.us))})`,
		);
	}
	const [a, b] = sides;
	if (a && b) {
		const cpu = median(b.us.map((x, i) => x / (a.us[i] ?? x)));
		const tput = median(b.rps.map((x, i) => x / (a.rps[i] ?? x)));
		console.log(
			`${b.dir} / ${a.dir}, median of pairwise ratios: server CPU per request ${fmt(cpu, 3)}×, throughput ${fmt(tput, 3)}×`,
		);
	}
} finally {
	for (const c of children) c.kill("SIGTERM");
	await admin.end();
	await new Promise((ok) => setTimeout(ok, 300));
	await db.drop();
}
