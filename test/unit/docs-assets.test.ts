/**
 * The /docs viewer is the npm package's own file: the version and integrity hash that
 * src/routes/docs.ts pins match what is installed, on Node and in the Worker's assets.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { docsBundlePath } from "../../src/node/docs-bundle";
import { SCALAR_SRI, SCALAR_VERSION } from "../../src/routes/docs";

const root = resolve(import.meta.dirname, "../..");
const sri = (file: string) =>
	`sha384-${createHash("sha384").update(readFileSync(file)).digest("base64")}`;

describe("the pinned API reference viewer", () => {
	it("is the installed @scalar/api-reference, at the version and hash the page names", () => {
		const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
			devDependencies: Record<string, string>;
		};
		expect(pkg.devDependencies["@scalar/api-reference"], "pin it exactly").toBe(SCALAR_VERSION);
		const path = docsBundlePath();
		expect(path).not.toBeNull();
		const installed = JSON.parse(
			readFileSync(resolve(path ?? "", "../../../package.json"), "utf8"),
		) as { version: string };
		expect(installed.version).toBe(SCALAR_VERSION);
		expect(sri(path ?? "")).toBe(SCALAR_SRI);
	});

	it("is copied unchanged into the Worker's static assets", () => {
		const out = execFileSync(process.execPath, ["scripts/docs-assets.mjs"], {
			cwd: root,
			encoding: "utf8",
		});
		expect(out).toMatch(/dist\/assets\/scalar-api-reference\.js \(\d+ bytes\)/);
		expect(sri(resolve(root, "dist/assets/scalar-api-reference.js"))).toBe(SCALAR_SRI);
	});
});
