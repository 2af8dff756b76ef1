/**
 * Redocly's linter (its "recommended" rules, redocly.yaml) over the generated document: what a
 * consumer's tooling would complain about fails here first. Run as a real CLI process, offline.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newApp } from "../../src/app";
import { openApiDocument } from "../../src/openapi/document";
import type { Runtime } from "../../src/services";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const cli = resolve(root, "node_modules/@redocly/cli/bin/cli.js");

let dir: string;
beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "openapi-lint-"));
});
afterAll(async () => {
	await rm(dir, { recursive: true, force: true });
});

interface LintReport {
	totals: { errors: number; warnings: number };
	problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }>;
}

describe("npx @redocly/cli lint", () => {
	it("finds no error and no warning in the generated document", async () => {
		const file = join(dir, "openapi.json");
		const doc = openApiDocument(newApp({} as Runtime), "https://license.coditect.dev");
		await writeFile(file, JSON.stringify(doc));
		// Exit status 1 on errors; the JSON report on stdout either way.
		const { stdout } = await run(
			process.execPath,
			[cli, "lint", file, "--config", resolve(root, "redocly.yaml"), "--format", "json"],
			{
				cwd: root,
				env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
				maxBuffer: 16 * 1024 * 1024,
			},
		).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }));
		const report = JSON.parse(stdout) as LintReport;
		const problems = report.problems.map(
			(p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`,
		);
		expect(problems).toEqual([]);
		expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
	}, 60_000);
});
