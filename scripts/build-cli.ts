/**
 * Builds the CLI package: cli/dist/coditect.mjs (the `coditect` bin) and cli/dist/lib.mjs
 * (`checkLicense`), each one self-contained ESM bundle with its dependencies (citty, open)
 * inside, so installing the package runs no scripts and fetches nothing else.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildOptions, build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_DIST = resolve(root, "cli/dist");

const LIB_TYPES = `export type LicenseCode =
	| "VALID" | "PAST_DUE" | "NOT_ACTIVATED" | "INVALID_TOKEN" | "FOREIGN_LICENSE" | "WRONG_HARDWARE"
	| "CLOCK_ROLLBACK" | "CLOCK_BEHIND" | "GRACE_EXPIRED" | "UNKNOWN_KEY" | "NOT_FOUND" | "EXPIRED"
	| "SUSPENDED" | "REVOKED" | "NO_HARDWARE_ID" | "MISCONFIGURED";
export interface LicenseCheck {
	licensed: boolean;
	code: LicenseCode;
	plan: string | null;
	expires_at: string | null;
	grace_remaining_s: number;
	offline: boolean;
	status: string | null;
	license_id: string | null;
	token_expires_at: string | null;
	last_online_at: string | null;
	revalidation: "not_needed" | "background" | "done" | "failed" | "skipped";
	network_error: string | null;
	message: string;
}
export interface CheckLicenseOptions {
	home?: string;
	apiUrl?: string;
	online?: "auto" | "always" | "never";
	refreshCommand?: readonly string[];
}
export declare function checkLicense(options?: CheckLicenseOptions): Promise<LicenseCheck>;
`;

export async function buildCli(opts: { quiet?: boolean } = {}): Promise<void> {
	const common: BuildOptions = {
		bundle: true,
		platform: "node",
		format: "esm",
		target: "node22",
		legalComments: "none",
		logLevel: opts.quiet ? "error" : "info",
		absWorkingDir: root,
	};
	await mkdir(CLI_DIST, { recursive: true });
	await Promise.all([
		build({
			...common,
			entryPoints: ["cli/index.ts"],
			outfile: "cli/dist/coditect.mjs",
			banner: { js: "#!/usr/bin/env node" },
		}),
		build({ ...common, entryPoints: ["cli/lib.ts"], outfile: "cli/dist/lib.mjs" }),
		writeFile(resolve(CLI_DIST, "lib.d.ts"), LIB_TYPES),
	]);
	await chmod(resolve(CLI_DIST, "coditect.mjs"), 0o755);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	await buildCli();
}
