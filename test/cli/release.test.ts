/**
 * `npm run release:cli` ships only a CLI that can verify production tokens: it refuses while
 * no public key is bundled, and with one (a throwaway pair made here) the released bundle
 * carries exactly that key, says so in `info`, and holds nothing private.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_STEPS, ReleaseRefused, releaseCli } from "../../scripts/release-cli";
import { type TempKeys, tempKeys } from "./temp-keys";

let out: string;
beforeAll(async () => {
	out = await mkdtemp(join(tmpdir(), "coditect-release-"));
});
afterAll(async () => {
	await rm(out, { recursive: true, force: true });
});

describe("npm run release:cli", () => {
	it("refuses while no public key is bundled, and says what to run, in order", async () => {
		const none = await tempKeys("none");
		try {
			const releaseDir = join(out, "refused");
			const err = await releaseCli({ keysDir: none.dir, releaseDir }).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(ReleaseRefused);
			const message = (err as Error).message;
			const steps = [
				"keys:new | npx wrangler secret put LICENSE_SIGNING_KEY --env production",
				"git add keys/",
				"npm run deploy",
				"/.well-known/jwks.json",
				"npm run release:cli",
			].map((step) => message.indexOf(step));
			expect(
				steps.every((at) => at >= 0),
				message,
			).toBe(true);
			expect([...steps].sort((a, b) => a - b)).toEqual(steps);
			expect(existsSync(releaseDir), "nothing was built").toBe(false);
		} finally {
			await none.cleanup();
		}
	});

	it("as a command: exits 1 with the steps on stderr", async () => {
		const none = await tempKeys("none");
		try {
			const r = spawnSync(
				process.execPath,
				["--import", "tsx", "scripts/release-cli.ts", "--keys-dir", none.dir],
				{ encoding: "utf8" },
			);
			expect(r.status, r.stderr).toBe(1);
			expect(r.stderr).toContain("release:cli refused.");
			expect(r.stderr).toContain(KEY_STEPS.split("\n")[0]);
			expect(r.stdout).toBe("");
		} finally {
			await none.cleanup();
		}
	}, 30_000);

	describe("with a key pair", () => {
		let keys: TempKeys;
		beforeAll(async () => {
			keys = await tempKeys();
		});
		afterAll(async () => {
			await keys?.cleanup();
		});

		it("releases a CLI that bundles exactly that key, checksummed, with nothing private inside", async () => {
			const dist = resolve("cli/dist/cli.cjs");
			const before = existsSync(dist) ? statSync(dist).mtimeMs : null;
			const releaseDir = join(out, "released");
			const { files, sums, kids } = await releaseCli({ keysDir: keys.dir, releaseDir });
			expect(kids).toEqual([keys.kid]);
			expect(files.map((f) => f.slice(releaseDir.length + 1))).toEqual([
				"coditect-1.0.0-pilot.1.tgz",
				"coditect.cjs",
				"prompts.cjs",
				"lib.mjs",
			]);
			execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: releaseDir, stdio: "pipe" });
			expect(await readFile(join(releaseDir, "SHA256SUMS"), "utf8")).toBe(sums);

			const d = (JSON.parse(keys.privateJwk) as { d: string }).d;
			for (const file of files.slice(1)) {
				const text = await readFile(file, "utf8");
				// prompts.cjs is the prompt library alone: it holds no key, and must hold no secret.
				if (!file.endsWith("prompts.cjs")) expect(text, file).toContain(keys.kid);
				expect(text, file).not.toContain(d);
			}
			const info = JSON.parse(
				execFileSync(process.execPath, [join(releaseDir, "coditect.cjs"), "info", "--json"], {
					encoding: "utf8",
					env: { ...process.env, CODITECT_HOME: join(out, "home") },
				}),
			) as { bundled_keys: string[] };
			expect(info.bundled_keys).toEqual([keys.kid]);
			// The checkout's own bundle (other suites run it) is left alone.
			expect(existsSync(dist) ? statSync(dist).mtimeMs : null).toBe(before);
		}, 60_000);
	});
});
