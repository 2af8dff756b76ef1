// Groups a .cpuprofile's self time as in bench/README.md (socket writes, node:crypto, postgres.js, adapter, GC…).
// Usage: node bench/cpu-profile-groups.cjs <file.cpuprofile>
const p = JSON.parse(require("fs").readFileSync(process.argv[2]));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
const dt = p.timeDeltas;
for (let i = 0; i < p.samples.length; i++)
	self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
function group(n) {
	const f = n.callFrame,
		u = f.url,
		fn = f.functionName;
	if (fn === "(garbage collector)") return "GC";
	if (fn === "(idle)" || fn === "(program)") return fn;
	if (/writev|writeGeneric|writeBuffer|_writeRaw|handleWriteReq|Socket\._write/.test(fn))
		return "socket writes";
	if (
		u.includes("node:internal/crypto") ||
		u.includes("webcrypto") ||
		(/sign|digest|hmac/i.test(fn) && u.startsWith("node:"))
	)
		return "node:crypto";
	if (u.includes("/postgres/")) return "postgres.js";
	if (
		u.includes("undici") ||
		u.includes("internal/webstreams") ||
		u.includes("internal/deps/undici") ||
		u.includes("@hono/node-server")
	)
		return "undici/webstreams/adapter";
	if (u.includes("timers") || u.includes("task_queues")) return "timers/microtasks";
	if (u.includes("/hono/")) return "hono";
	if (u.includes("/zod/")) return "zod";
	if (u.includes("drizzle")) return "drizzle";
	if (u.includes("/src/")) return "own code";
	if (u.startsWith("node:")) return "node other";
	return fn.startsWith("(") ? fn : "other";
}
const g = new Map();
let total = 0;
for (const [id, t] of self) {
	const k = group(byId.get(id));
	if (k === "(idle)") continue;
	g.set(k, (g.get(k) ?? 0) + t);
	total += t;
}
for (const [k, t] of [...g].sort((a, b) => b[1] - a[1]))
	console.log(k.padEnd(28), ((t / total) * 100).toFixed(1) + " %");
