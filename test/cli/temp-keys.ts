/** A throwaway key pair in a temp folder, made by the real `keys:new` script; never keys/. */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const script = resolve(import.meta.dirname, "../../keys/new-key-pair.ts");

export interface TempKeys {
	dir: string;
	/** Empty when made with `none`. */
	kid: string;
	privateJwk: string;
	cleanup(): Promise<void>;
}

/** `kind: "none"` makes only the generated index (no key), as in a fresh clone. */
export async function tempKeys(kind: "pair" | "none" = "pair"): Promise<TempKeys> {
	const dir = await mkdtemp(join(tmpdir(), "coditect-keys-"));
	const args = ["--experimental-strip-types", script, "--out-dir", dir];
	if (kind === "none") args.push("--index-only");
	const privateJwk = execFileSync(process.execPath, args, {
		encoding: "utf8",
		stdio: ["ignore", "pipe", "pipe"],
	}).trim();
	const jwk = (await readdir(dir)).find((f) => f.endsWith(".json"));
	return {
		dir,
		kid: jwk?.replace(/\.json$/, "") ?? "",
		privateJwk,
		cleanup: () => rm(dir, { recursive: true, force: true }),
	};
}
