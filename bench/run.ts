/**
 * `npm run bench`: every benchmark in one run, one table on stdout and in bench/results.md
 * (with Node, CPU and date). Ratios are against baselines measured in this same run.
 * Needs wrk, hyperfine and pgbouncer (Debian packages) and a Postgres server
 * (BENCH_DATABASE_URL / TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
 */

import { readdir, readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { gzipSync } from "node:zlib";
import { runCiLeaseBench } from "./ci-leases";
import { runCliBench } from "./cli-status";
import { type BenchRow, fmt, run } from "./lib";
import { runPasswordBench } from "./passwords";
import { runRoundTripBench } from "./round-trips";
import { runStatementBench } from "./statement";
import { runTokenBench } from "./tokens";
import { runValidateNodeBench } from "./validate-node";
import { runValidateReferenceBench } from "./validate-reference";
import { runValidateReferenceWorkerdBench } from "./validate-reference-workerd";
import { runValidateWorkerdBench } from "./validate-workerd";

const sections: Array<[string, () => Promise<{ rows: BenchRow[] }>]> = [
	["validate round trips", () => runRoundTripBench()],
	["validate statement", () => runStatementBench()],
	["validate on Node", () => runValidateNodeBench()],
	["validate against the same-work reference", () => runValidateReferenceBench()],
	["validate in workerd", () => runValidateWorkerdBench()],
	[
		"validate in workerd against the same-work reference Worker",
		() => runValidateReferenceWorkerdBench(),
	],
	["license tokens", () => runTokenBench()],
	["CI leases", () => runCiLeaseBench()],
	["CLI start-up", () => runCliBench()],
	["passwords", () => runPasswordBench()],
	["Worker bundle", bundleSize],
];

async function bundleSize(): Promise<{ rows: BenchRow[] }> {
	const out = "dist/worker";
	await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out]);
	let raw = 0;
	let gz = 0;
	for (const file of await readdir(out)) {
		if (file.endsWith(".map") || file.endsWith(".md")) continue;
		const bytes = await readFile(`${out}/${file}`);
		raw += bytes.length;
		gz += gzipSync(bytes, { level: 9 }).length;
	}
	const kib = gz / 1024;
	return {
		rows: [
			{
				name: "Worker bundle (all modules), gzip",
				value: `${fmt(kib, 1)} KiB (raw ${fmt(raw / 1024)} KiB)`,
				target: "≤ 400 KiB",
				ok: kib <= 400,
			},
		],
	};
}

const only = process.argv.slice(2);
const rows: Array<BenchRow & { section: string }> = [];
for (const [section, bench] of sections) {
	if (only.length > 0 && !only.some((o) => section.includes(o))) continue;
	process.stderr.write(`… ${section}\n`);
	try {
		for (const row of (await bench()).rows) rows.push({ section, ...row });
	} catch (err) {
		rows.push({
			section,
			name: section,
			value: `failed: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`,
			ok: false,
		});
	}
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
const header = `Node ${process.version}, ${cpus().length} × ${cpu}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`;
const table = [
	"| section | measure | figure | target |",
	"|---|---|---|---|",
	...rows.map(
		(r) =>
			`| ${r.section} | ${r.name} | ${r.value} | ${r.target ? `${r.target} ${r.ok ? "✅" : "❌"}` : ""} |`,
	),
].join("\n");
const md = `# Benchmark results\n\n${header}. Produced by \`npm run bench\`; load generator, server and Postgres share the machine.\n\n${table}\n`;
console.log(`\n${header}\n\n${table}`);
if (only.length === 0) await writeFile("bench/results.md", md);
