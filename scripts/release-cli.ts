/**
 * `npm run release:cli`: builds the bundle, packs the `coditect` package, and writes
 * SHA-256 checksums of every artifact (sha256sum format) to cli/release/SHA256SUMS.
 * Verify with `cd cli/release && sha256sum -c SHA256SUMS`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildCli } from "./build-cli";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cliDir = resolve(root, "cli");
export const RELEASE_DIR = resolve(cliDir, "release");

export async function releaseCli(): Promise<{ files: string[]; sums: string }> {
	await buildCli({ quiet: true });
	await rm(RELEASE_DIR, { recursive: true, force: true });
	await mkdir(RELEASE_DIR, { recursive: true });
	const packed = JSON.parse(
		execFileSync("npm", ["pack", "--json", "--pack-destination", RELEASE_DIR], {
			cwd: cliDir,
			encoding: "utf8",
		}),
	) as Array<{ filename: string }>;
	const tarball = packed[0]?.filename;
	if (!tarball) throw new Error("npm pack produced no tarball");
	const files = [resolve(RELEASE_DIR, basename(tarball))];
	// Single-file downloads beside the tarball: the bundle itself (`node coditect.cjs …`;
	// the package's bin adds only the compile-cache loader) and the library.
	for (const [from, name] of [
		["cli.cjs", "coditect.cjs"],
		["lib.mjs", "lib.mjs"],
	] as const) {
		const target = resolve(RELEASE_DIR, name);
		await copyFile(resolve(cliDir, "dist", from), target);
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
	await writeFile(resolve(RELEASE_DIR, "SHA256SUMS"), sums);
	return { files, sums };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	const { sums } = await releaseCli();
	process.stdout.write(`cli/release/SHA256SUMS\n${sums}`);
}
