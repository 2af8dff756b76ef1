/**
 * `npm run release:cli`: builds the bundle, packs the `coditect` package, and writes
 * SHA-256 checksums of every artifact (sha256sum format) to cli/release/SHA256SUMS.
 * Verify with `cd cli/release && sha256sum -c SHA256SUMS`.
 *
 * Refuses while no public key is bundled: the CLI verifies production tokens only with the
 * keys built into it (it never trusts keys fetched from the default API URL), so a release
 * without one would reject every token the production server signs.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_API_URL } from "../cli/config";
import type { PublicJwk } from "../src/kernel/token/keys";
import { buildCli } from "./build-cli";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cliDir = resolve(root, "cli");
export const RELEASE_DIR = resolve(cliDir, "release");
const KEYS_DIR = resolve(root, "keys");

/** What to run instead; printed by the refusal. */
export const KEY_STEPS = `No license-token public key is bundled for ${DEFAULT_API_URL}, so this CLI would reject every
token the production server signs. Release it after these steps, in this order:

  1. Make the key pair; the private half goes straight into the Worker secret, never to disk:
       npm run --silent keys:new | npx wrangler secret put LICENSE_SIGNING_KEY --env production
  2. Commit the public half (keys/<kid>.json and the regenerated keys/index.ts):
       git add keys/ && git commit -m "License signing key"
  3. Deploy, and check that the server publishes the new kid:
       npm run deploy
       curl -s ${DEFAULT_API_URL}/.well-known/jwks.json
  4. Rebuild and release the CLI with the key inside:
       npm run release:cli

Rotating an existing key differs (release the CLI with the new public key before the new
private key signs): see docs/deploy.md, "Signing key".`;

export class ReleaseRefused extends Error {}

export interface ReleaseOptions {
	/** A keys folder (`<kid>.json` files and their generated `index.ts`); default keys/. */
	keysDir?: string;
	/** Where the artifacts go; default cli/release. */
	releaseDir?: string;
}

/** The keys that the build will bundle: exactly what `index.ts` in `keysDir` exports. */
export async function bundledKeys(keysDir: string = KEYS_DIR): Promise<readonly PublicJwk[]> {
	const mod = (await import(pathToFileURL(join(keysDir, "index.ts")).href)) as {
		PUBLIC_KEYS?: readonly PublicJwk[];
	};
	return mod.PUBLIC_KEYS ?? [];
}

export async function releaseCli(
	opts: ReleaseOptions = {},
): Promise<{ files: string[]; sums: string; kids: string[] }> {
	const keysDir = opts.keysDir ?? KEYS_DIR;
	const releaseDir = opts.releaseDir ?? RELEASE_DIR;
	const keys = await bundledKeys(keysDir);
	if (keys.length === 0) throw new ReleaseRefused(KEY_STEPS);

	// The package is staged apart from cli/dist, so a release never swaps the bundle under the
	// checkout's own `npx coditect` (or a test run using it).
	const stage = await mkdtemp(join(tmpdir(), "coditect-release-"));
	try {
		await buildCli({
			quiet: true,
			outDir: join(stage, "dist"),
			keysIndex: join(keysDir, "index.ts"),
		});
		for (const file of ["package.json", "README.md"]) {
			await copyFile(join(cliDir, file), join(stage, file));
		}
		await rm(releaseDir, { recursive: true, force: true });
		await mkdir(releaseDir, { recursive: true });
		const packed = JSON.parse(
			execFileSync("npm", ["pack", "--json", "--pack-destination", releaseDir], {
				cwd: stage,
				encoding: "utf8",
			}),
		) as Array<{ filename: string }>;
		const tarball = packed[0]?.filename;
		if (!tarball) throw new Error("npm pack produced no tarball");
		const files = [resolve(releaseDir, basename(tarball))];
		// Single-file downloads beside the tarball: the bundle itself (`node coditect.cjs …`;
		// the package's bin adds only the compile-cache loader), prompts.cjs for the commands
		// that prompt (kept beside it, loaded only when a prompt shows) and the library.
		for (const [from, name] of [
			["cli.cjs", "coditect.cjs"],
			["prompts.cjs", "prompts.cjs"],
			["lib.mjs", "lib.mjs"],
		] as const) {
			const target = resolve(releaseDir, name);
			await copyFile(join(stage, "dist", from), target);
			files.push(target);
		}
		const lines: string[] = [];
		for (const file of files) {
			const digest = createHash("sha256")
				.update(await readFile(file))
				.digest("hex");
			lines.push(`${digest}  ${basename(file)}`);
		}
		const sums = `${lines.join("\n")}\n`;
		await writeFile(resolve(releaseDir, "SHA256SUMS"), sums);
		return { files, sums, kids: keys.map((k) => k.kid) };
	} finally {
		await rm(stage, { recursive: true, force: true });
	}
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	// `--keys-dir DIR`: bundle another keys folder (its generated index.ts) instead of keys/.
	const flag = process.argv.indexOf("--keys-dir");
	const keysDir = flag === -1 ? undefined : process.argv[flag + 1];
	try {
		const { sums, kids } = await releaseCli(keysDir ? { keysDir: resolve(keysDir) } : {});
		process.stdout.write(`bundled keys: ${kids.join(", ")}\ncli/release/SHA256SUMS\n${sums}`);
	} catch (err) {
		if (!(err instanceof ReleaseRefused)) throw err;
		process.stderr.write(`release:cli refused.\n\n${err.message}\n`);
		process.exitCode = 1;
	}
}
