/**
 * The installed bin's own behaviour (cli/loader.cjs): `license status` through status.cjs and
 * the code cache it keeps in the home; every other command line through cli.cjs.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { perTest, runCli, show } from "./helpers";

const { serverWith, home } = perTest();

async function cacheFiles(h: string): Promise<string[]> {
	return existsSync(join(h, "cache")) ? (await readdir(join(h, "cache"))).sort() : [];
}

describe("the coditect bin", () => {
	it("keeps one code cache of the status path in the home, reuses it, and replaces a damaged or stale one", async () => {
		const server = await serverWith({});
		const h = await home();
		const { key } = await server.mintLicense();
		expect((await runCli(["activate", key], { home: h, apiUrl: server.url })).code).toBe(0);
		await server.down();

		const first = await runCli(["license", "status", "--json"], { home: h, apiUrl: server.url });
		expect(first.json, show(first)).toMatchObject({ licensed: true, code: "VALID" });
		const [name] = await cacheFiles(h);
		expect(name).toMatch(/^status-[0-9a-f]{32}\.v8$/);
		const file = join(h, "cache", name ?? "");
		const cache = await readFile(file);
		expect(cache.length).toBeGreaterThan(1000);

		// Reused as it is: a start that accepted the cache does not write it again.
		const again = await runCli(["license", "status", "--json"], { home: h, apiUrl: server.url });
		expect(again.json).toMatchObject({ licensed: true, code: "VALID" });
		expect((await readFile(file)).equals(cache)).toBe(true);

		// Garbage in the cache (a crash, another V8): V8 refuses it, the check still answers,
		// and the file is written anew. A cache of an older CLI goes when the new one is written.
		await writeFile(file, Buffer.alloc(cache.length, 7));
		await writeFile(join(h, "cache", "status-00000000000000000000000000000000.v8"), "old");
		const damaged = await runCli(["license", "status", "--json"], { home: h, apiUrl: server.url });
		expect(damaged.json, show(damaged)).toMatchObject({ licensed: true, code: "VALID" });
		expect(await cacheFiles(h)).toEqual([name]);
		expect((await readFile(file)).equals(Buffer.alloc(cache.length, 7))).toBe(false);
	});

	it("creates nothing for a home that does not exist", async () => {
		const parent = await home();
		const absent = join(parent, "never-made");
		const r = await runCli(["license", "status", "--json"], { home: absent });
		expect(r.code, show(r)).toBe(2);
		expect(r.json).toMatchObject({ licensed: false, code: "NOT_ACTIVATED" });
		expect(existsSync(absent)).toBe(false);
	});

	it("hands a status command line the fast path does not take to the full command line", async () => {
		const h = await home();
		const help = await runCli(["license", "status", "--help"], { home: h });
		expect(help.code, show(help)).toBe(0);
		expect(help.stdout).toContain("coditect license status");
		const typo = await runCli(["license", "status", "--jsno"], { home: h });
		expect(typo.code, show(typo)).toBe(1);
		expect(typo.stderr).toContain("--json");
		// A home that exists but has no license yet still gets its cache: the next start is the fast one.
		expect((await runCli(["license", "status"], { home: h })).code).toBe(2);
		expect(await cacheFiles(h)).toHaveLength(1);
	});
});
