/**
 * Rules of the layout that review alone would not keep: one writer of licenses and
 * activations, no import loops (type-only imports count: they tie modules together just the
 * same), and a kernel the CLI can bundle.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function sourceFiles(dir: string): string[] {
	const out: string[] = [];
	for (const name of readdirSync(join(root, dir))) {
		const path = join(dir, name);
		if (name === "node_modules" || name === "dist" || name === "release") continue;
		if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(path));
		else if (/\.(tsx?|mts|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
	}
	return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(type\s)?[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/g;
const DYNAMIC = /\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function resolveImport(from: string, spec: string): string | null {
	const base = join(dirname(from), spec);
	for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
		try {
			if (statSync(join(root, candidate)).isFile()) return candidate;
		} catch {}
	}
	return null;
}

/**
 * Every import edge, lazy `import()` too: a loop through a lazy edge still means neither
 * module can be understood (or moved) without the other. `runtime` leaves out `import type`
 * edges, which no bundle contains.
 */
function importGraph(files: string[], opts: { runtime?: boolean } = {}): Map<string, string[]> {
	const graph = new Map<string, string[]>();
	for (const file of files) {
		const text = readFileSync(join(root, file), "utf8");
		const deps: string[] = [];
		for (const m of text.matchAll(IMPORT)) {
			if (opts.runtime && m[1]) continue;
			const target = m[2] ? resolveImport(file, m[2]) : null;
			if (target) deps.push(target);
		}
		for (const m of text.matchAll(DYNAMIC)) {
			const target = m[1] ? resolveImport(file, m[1]) : null;
			if (target) deps.push(target);
		}
		graph.set(file, deps);
	}
	return graph;
}

function findCycles(graph: Map<string, string[]>): string[][] {
	const cycles: string[][] = [];
	const state = new Map<string, "open" | "done">();
	const stack: string[] = [];
	const visit = (node: string): void => {
		state.set(node, "open");
		stack.push(node);
		for (const next of graph.get(node) ?? []) {
			if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
			else if (!state.has(next)) visit(next);
		}
		stack.pop();
		state.set(node, "done");
	};
	for (const node of graph.keys()) if (!state.has(node)) visit(node);
	return cycles;
}

describe("the layout", () => {
	const files = [...sourceFiles("src"), ...sourceFiles("cli"), ...sourceFiles("keys")];

	it("has no import loops in src/, cli/ or keys/", () => {
		const cycles = findCycles(importGraph(files));
		expect(
			cycles.map((c) => c.join(" → ")),
			"import cycles",
		).toEqual([]);
	});

	it("writes licenses and activations only from src/licenses/", () => {
		// drizzle's insert/update/delete on the table objects, and the same in raw SQL.
		const writes =
			/\.(?:insert|update|delete)\(\s*(?:licenses|activations)\s*\)|\b(?:insert\s+into|update|delete\s+from)\s+(?:licenses|activations)\b/i;
		const offenders = sourceFiles("src")
			.filter((f) => !f.startsWith(`${join("src", "licenses")}/`))
			.filter((f) => writes.test(readFileSync(join(root, f), "utf8")));
		expect(offenders).toEqual([]);
	});

	it("finds a write when one is there (the rule above can fail)", () => {
		const writes = /\.(?:insert|update|delete)\(\s*(?:licenses|activations)\s*\)/;
		expect(writes.test("await tx.update(licenses).set({})")).toBe(true);
		expect(
			findCycles(
				new Map([
					["a", ["b"]],
					["b", ["a"]],
				]),
			),
		).toHaveLength(1);
	});

	it("keeps the kernel pure: no Hono, drizzle, Cloudflare or node: imports", () => {
		const impure = sourceFiles(join("src", "kernel")).filter((f) =>
			/from\s+["'](?:hono|drizzle-orm|cloudflare:|node:|postgres)/.test(
				readFileSync(join(root, f), "utf8"),
			),
		);
		expect(impure).toEqual([]);
	});

	it("imports zod as a namespace (`import * as z`), never `{ z }`, which bundles all 64 locales", () => {
		// `{ z }` is zod's namespace *object*: a bundler must keep every export it holds, the
		// locales (~370 KB raw, ~78 KB gzip of the Worker) included. `* as z` lets it keep
		// only what is used.
		const whole = [...files, ...sourceFiles("test")].filter((f) =>
			/import\s+\{[^}]*\bz\b[^}]*\}\s+from\s+["']zod["']/.test(readFileSync(join(root, f), "utf8")),
		);
		expect(whole).toEqual([]);
	});

	it("lets the CLI bundle only the kernel's verifying side, never signing", () => {
		const graph = importGraph(files, { runtime: true });
		const reached = new Set<string>();
		const walk = (f: string): void => {
			if (reached.has(f)) return;
			reached.add(f);
			for (const d of graph.get(f) ?? []) walk(d);
		};
		for (const f of files.filter((f) => f.startsWith("cli/"))) walk(f);
		const kernel = [...reached].filter((f) => f.startsWith("src/")).map((f) => relative("src", f));
		expect(kernel.filter((f) => !f.startsWith("kernel/"))).toEqual([]);
		expect(kernel).not.toContain("kernel/token/sign.ts");
		expect(kernel).not.toContain("kernel/index.ts");
	});
});
