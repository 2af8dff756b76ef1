/** checkLicense() in process (the host tool's start-up call) and the published package. */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { VERSION } from "../../cli/version";
import { LicenseServer, runCli, show, tempHome } from "./helpers";
import { tempKeys } from "./temp-keys";

let server: LicenseServer;
let home: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
	server = await LicenseServer.start();
	({ home, cleanup } = await tempHome());
	const { key } = await server.mintLicense();
	const r = await runCli(["activate", key], {
		home,
		apiUrl: server.url,
		hardwareId: "lib-machine",
	});
	expect(r.code, show(r)).toBe(0);
	process.env.CODITECT_HARDWARE_ID = "lib-machine";
});
afterAll(async () => {
	delete process.env.CODITECT_HARDWARE_ID;
	await server.down();
	await cleanup();
});

describe("checkLicense()", () => {
	it("answers from the cache with a fresh token, without any network I/O", async () => {
		const { checkLicense } = await import("../../cli/lib");
		const fetchSpy = vi.spyOn(globalThis, "fetch");
		try {
			await checkLicense({ home, apiUrl: server.url });
			const started = performance.now();
			const result = await checkLicense({ home, apiUrl: server.url });
			const elapsed = performance.now() - started;
			expect(result).toMatchObject({
				licensed: true,
				code: "VALID",
				plan: "professional",
				expires_at: null,
				offline: true,
			});
			expect(result.grace_remaining_s).toBeGreaterThan(71 * 3600);
			expect(fetchSpy).not.toHaveBeenCalled();
			// The benchmark measures the real figure (target 2 ms); this only catches a gross regression.
			expect(elapsed).toBeLessThan(50);
		} finally {
			fetchSpy.mockRestore();
		}
	});

	it("never throws: a bad API URL or a missing machine id are results", async () => {
		const { checkLicense } = await import("../../cli/lib");
		await expect(checkLicense({ home, apiUrl: "ftp://nope" })).resolves.toMatchObject({
			licensed: false,
			code: "MISCONFIGURED",
		});
	});

	it("never trusts a cached JWKS for the production URL", async () => {
		const { checkLicense } = await import("../../cli/lib");
		const { writeFile } = await import("node:fs/promises");
		const stored = JSON.parse(await readFile(join(home, "license.json"), "utf8")) as Record<
			string,
			unknown
		>;
		const jwksFiles = await import("node:fs/promises").then((fs) => fs.readdir(join(home, "jwks")));
		const cached = JSON.parse(await readFile(join(home, "jwks", jwksFiles[0] ?? ""), "utf8")) as {
			keys: unknown[];
		};
		// Pretend the test server's key was planted in a cache for the production URL.
		const prod = await tempHome();
		const prodHome = prod.home;
		await mkdir(join(prodHome, "jwks"), { recursive: true });
		const { createHash } = await import("node:crypto");
		const tag = createHash("sha256")
			.update("https://license.coditect.dev")
			.digest("hex")
			.slice(0, 16);
		await writeFile(
			join(prodHome, "jwks", `${tag}.json`),
			JSON.stringify({ api_url: "https://license.coditect.dev", keys: cached.keys }),
		);
		await writeFile(
			join(prodHome, "license.json"),
			JSON.stringify({ ...stored, api_url: "https://license.coditect.dev" }),
		);
		await writeFile(join(prodHome, "last-seen"), String(Date.now()));
		const result = await checkLicense({
			home: prodHome,
			apiUrl: "https://license.coditect.dev",
			online: "never",
		});
		expect(result).toMatchObject({ licensed: false, code: "UNKNOWN_KEY" });
		await prod.cleanup();
	});

	it("works from the built bundle too", async () => {
		const lib = (await import(
			pathToFileURL(resolve("cli/dist/lib.mjs")).href
		)) as typeof import("../../cli/lib");
		await expect(lib.checkLicense({ home, apiUrl: server.url })).resolves.toMatchObject({
			licensed: true,
		});
	});
});

describe("the package", () => {
	it("has the version of cli/package.json", async () => {
		const pkg = JSON.parse(await readFile("cli/package.json", "utf8")) as {
			version: string;
			dependencies?: unknown;
		};
		expect(pkg.version).toBe(VERSION);
		expect(pkg.dependencies).toBeUndefined();
	});

	it("packs with checksums, installs with npm i -g on a clean prefix, and runs", async () => {
		const { releaseCli } = await import("../../scripts/release-cli");
		// A release needs a bundled public key; keys/ has none in CI, so a throwaway pair.
		const keys = await tempKeys();
		const { files, sums } = await releaseCli({
			keysDir: keys.dir,
			releaseDir: join(keys.dir, "release"),
		});
		const tarball = files[0] ?? "";
		expect(tarball).toMatch(/coditect-1\.0\.0-pilot\.1\.tgz$/);
		// The tarball, coditect.cjs, prompts.cjs (beside it, for the commands that prompt), lib.mjs.
		expect(sums.trim().split("\n")).toHaveLength(4);
		expect(sums).toContain("prompts.cjs");
		const t = await tempHome();
		try {
			execFileSync(
				"npm",
				["i", "-g", "--prefix", t.home, "--no-audit", "--no-fund", "--offline", tarball],
				{
					stdio: "pipe",
				},
			);
			const bin = join(t.home, "bin", "coditect");
			expect(existsSync(bin)).toBe(true);
			expect(
				existsSync(join(t.home, "lib", "node_modules", "coditect", "dist", "prompts.cjs")),
			).toBe(true);
			const version = execFileSync(bin, ["--version"], {
				encoding: "utf8",
				env: { PATH: process.env.PATH ?? "", TMPDIR: t.home },
			});
			expect(version.trim()).toBe(VERSION);
			// The full command line keeps V8's compiled cli.cjs in the temp dir for the next start.
			expect(existsSync(join(t.home, "node-compile-cache"))).toBe(true);
			const status = JSON.parse(
				execFileSync(bin, ["license", "status", "--json"], {
					encoding: "utf8",
					env: {
						PATH: process.env.PATH ?? "",
						CODITECT_HOME: home,
						CODITECT_API_URL: server.url,
						CODITECT_HARDWARE_ID: "lib-machine",
						TMPDIR: t.home,
					},
				}),
			) as Record<string, unknown>;
			expect(status).toMatchObject({ licensed: true, code: "VALID" });
			// `license status` keeps a code cache of status.cjs, taken after the run, in its home.
			const cached = readdirSync(join(home, "cache"));
			expect(cached.filter((f) => /^status-[0-9a-f]{32}\.v8$/.test(f))).toHaveLength(1);
			// The single-file download runs on its own.
			const standalone = files.find((f) => f.endsWith("coditect.cjs")) ?? "";
			expect(
				execFileSync(process.execPath, [standalone, "--version"], { encoding: "utf8" }).trim(),
			).toBe(VERSION);
			const installed = join(t.home, "lib", "node_modules", "coditect", "dist", "lib.mjs");
			const lib = (await import(pathToFileURL(installed).href)) as typeof import("../../cli/lib");
			await expect(lib.checkLicense({ home, apiUrl: server.url })).resolves.toMatchObject({
				licensed: true,
			});
		} finally {
			await t.cleanup();
			await keys.cleanup();
		}
	}, 60_000);
});
