/**
 * An open-loop load generator (wrk2's idea, in Node): requests are scheduled at a fixed
 * arrival rate whatever the server does, and each latency is measured from the request's
 * *intended* send time. A stalled server therefore shows up as latency on every request that
 * should have gone out meanwhile, instead of silently lowering the send rate (coordinated
 * omission). Requests travel on keep-alive connections; when all are busy a request waits
 * for one, and that wait counts too.
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";

export interface Sample {
	status: number;
	/** From the intended send time to the end of the response. */
	ms: number;
}

export interface Stream {
	name: string;
	/** Requests per second. */
	rate: number;
	seconds: number;
	/** Body of the i-th request. */
	body(i: number): { path: string; json: unknown; from?: string };
	/** Client address (127.x.y.z) the request leaves from. */
	from?: string;
	connections?: number;
}

const agents = new Map<string, Agent>();
function agentFor(from: string, connections: number): Agent {
	const key = `${from}/${connections}`;
	let agent = agents.get(key);
	if (!agent) {
		agent = new Agent({ keepAlive: true, maxSockets: connections, localAddress: from });
		agents.set(key, agent);
	}
	return agent;
}

export function closeAgents(): void {
	for (const a of agents.values()) a.destroy();
	agents.clear();
}

function post(
	base: string,
	path: string,
	json: unknown,
	agent: Agent,
	retried = false,
): Promise<number> {
	return new Promise((ok) => {
		const body = JSON.stringify(json);
		const req = request(
			`${base}${path}`,
			{ method: "POST", headers: { "content-type": "application/json" }, agent },
			(res) => {
				res.resume();
				res.on("end", () => ok(res.statusCode ?? 0));
				res.on("error", () => ok(0));
			},
		);
		// A keep-alive socket the server closed as idle just as it was reused fails at once;
		// that request never reached the server, so it is sent again once (as Node's docs advise).
		// Any other transport failure counts as status 0: never a success.
		req.on("error", (err: NodeJS.ErrnoException) => {
			if (req.reusedSocket && err.code === "ECONNRESET" && !retried)
				ok(post(base, path, json, agent, true));
			else ok(0);
		});
		req.setTimeout(30_000, () => req.destroy());
		req.end(body);
	});
}

/** Runs one stream at its fixed rate; resolves with every sample once all answers are in. */
export async function runStream(base: string, s: Stream): Promise<Sample[]> {
	const total = Math.round(s.rate * s.seconds);
	const interval = 1000 / s.rate;
	const start = performance.now();
	const pending: Array<Promise<Sample>> = [];
	let next = 0;
	while (next < total) {
		const now = performance.now();
		while (next < total && start + next * interval <= now) {
			const intended = start + next * interval;
			const { path, json, from } = s.body(next);
			const agent = agentFor(from ?? s.from ?? "127.0.0.1", s.connections ?? 64);
			pending.push(
				post(base, path, json, agent).then((status) => ({
					status,
					ms: performance.now() - intended,
				})),
			);
			next++;
		}
		const wait = start + next * interval - performance.now();
		await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, 5))));
	}
	return Promise.all(pending);
}

export function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
	return sorted[Math.max(0, i)] ?? Number.NaN;
}

export interface Summary {
	requests: number;
	byStatus: Record<string, number>;
	p50: number;
	p90: number;
	p99: number;
	max: number;
	fivexx: number;
}

export function summarize(samples: Sample[]): Summary {
	const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
	const byStatus: Record<string, number> = {};
	for (const s of samples) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
	return {
		requests: samples.length,
		byStatus,
		p50: percentile(ms, 50),
		p90: percentile(ms, 90),
		p99: percentile(ms, 99),
		max: ms.at(-1) ?? Number.NaN,
		fivexx: samples.filter((s) => s.status >= 500 || s.status === 0).length,
	};
}

export interface ProbeServer {
	url: string;
	pid: number;
	memory: Array<{ rss: number; heapUsed: number; at: number }>;
	stop(): Promise<void>;
}

/** Starts bench/serve-probe.ts in its own process on `env.DATABASE_URL`. */
export async function startProbeServer(env: NodeJS.ProcessEnv): Promise<ProbeServer> {
	const child = spawn(
		process.execPath,
		["--expose-gc", "--import", "tsx", "bench/serve-probe.ts"],
		{
			env: { ...process.env, NODE_ENV: "production", PUBLIC_URL: "http://127.0.0.1", ...env },
			stdio: ["ignore", "pipe", "inherit"],
		},
	);
	const memory: ProbeServer["memory"] = [];
	const lines = createInterface({ input: child.stdout });
	const first = await new Promise<{ url: string; pid: number }>((ok, fail) => {
		lines.once("line", (line) => ok(JSON.parse(line) as { url: string; pid: number }));
		child.once("exit", (code) => fail(new Error(`server exited ${code}`)));
	});
	lines.on("line", (line) => {
		try {
			const parsed = JSON.parse(line) as { memory?: ProbeServer["memory"][number] };
			if (parsed.memory) memory.push(parsed.memory);
		} catch {}
	});
	return {
		...first,
		memory,
		async stop() {
			child.kill("SIGTERM");
			await new Promise((ok) => child.once("exit", ok));
		},
	};
}

export const ms = (n: number): string => `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`;

export function printTable(title: string, rows: Array<[string, string, string, boolean]>): boolean {
	console.log(`\n${title}\n`);
	console.log("| check | measured | criterion | |");
	console.log("| --- | --- | --- | --- |");
	for (const [name, value, target, ok] of rows)
		console.log(`| ${name} | ${value} | ${target} | ${ok ? "pass" : "FAIL"} |`);
	return rows.every((r) => r[3]);
}
