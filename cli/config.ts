/**
 * Where the CLI talks to and keeps its files. Precedence (docs/api.md §5): flags, environment
 * (`CODITECT_API_URL`, `CODITECT_HARDWARE_ID`, `CODITECT_HOME`), `config.yaml` in the home
 * directory, defaults. Synchronous and dependency-free: it runs on every start.
 */
import { join, resolve } from "node:path";
import { CliError } from "./errors";
import { readFileIfExists } from "./home";

/** Production license server; matches wrangler.toml's production PUBLIC_URL. */
export const DEFAULT_API_URL = "https://license.coditect.dev";

export type ConfigSource = "flag" | "env" | "config" | "default";

export interface CliConfig {
	home: string;
	apiUrl: string;
	/** The raw identity from CODITECT_HARDWARE_ID or config.yaml (hashed before use), if any. */
	hardwareIdOverride: string | undefined;
	sources: { home: ConfigSource; apiUrl: ConfigSource; hardwareId: ConfigSource | "os" };
	configFile: string;
	/** Problems found in config.yaml (unknown keys); shown by `info`, never fatal. */
	warnings: string[];
}

export interface ConfigFlags {
	apiUrl?: string | undefined;
	home?: string | undefined;
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);
const CONFIG_KEYS: ReadonlySet<string> = new Set(["api_url", "hardware_id"]);

// The last accepted URL and its normal form: every license check of a process normalizes the
// same one, and parsing a URL is ~3 % of a check after import. Refusals are not kept (they
// throw, and name their source).
let lastInput: string | undefined;
let lastNormal = "";

/**
 * Canonical API URL: scheme, host, port and path without a trailing slash. Plain http is
 * refused except on loopback, because license keys, passwords and the JWKS travel over it.
 */
export function normalizeApiUrl(input: string, source: ConfigSource = "env"): string {
	if (input === lastInput) return lastNormal;
	let url: URL;
	try {
		url = new URL(input);
	} catch {
		throw new CliError(
			`The API URL "${input}" is not a valid URL. Set ${apiUrlSetting(source)} to e.g. ${DEFAULT_API_URL}.`,
			"INVALID_API_URL",
		);
	}
	if (
		url.protocol !== "https:" &&
		!(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))
	) {
		throw new CliError(
			`The API URL must use https (plain http is allowed only for 127.0.0.1/localhost); got ${url.protocol}//${url.host}.`,
			"INVALID_API_URL",
		);
	}
	lastNormal = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
	lastInput = input;
	return lastNormal;
}

/**
 * Reads the flat `key: value` subset of YAML that config.yaml needs (comments, optional
 * quotes). A full YAML parser would cost start-up time for two scalar settings.
 */
export function parseConfigYaml(text: string): { values: Map<string, string>; warnings: string[] } {
	const values = new Map<string, string>();
	const warnings: string[] = [];
	for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
		const line = rawLine.replace(/(^|\s)#.*$/, "").trim();
		if (line === "") continue;
		const match = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
		if (!match) {
			warnings.push(`config.yaml line ${index + 1} is not "key: value"; ignored`);
			continue;
		}
		const key = match[1] ?? "";
		let value = (match[2] ?? "").trim();
		if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
		if (!CONFIG_KEYS.has(key)) {
			warnings.push(`config.yaml: unknown setting "${key}" ignored`);
			continue;
		}
		if (value !== "") values.set(key, value);
	}
	return { values, warnings };
}

function readConfigFile(path: string): { values: Map<string, string>; warnings: string[] } {
	let text: string | null = null;
	try {
		text = readFileIfExists(path);
	} catch {
		// Unreadable: the same as none (the defaults), as it always was.
	}
	return text === null ? { values: new Map(), warnings: [] } : parseConfigYaml(text);
}

export function defaultHome(env: NodeJS.ProcessEnv): string {
	return env.CODITECT_HOME ? resolve(env.CODITECT_HOME) : join(userHome(env), ".coditect");
}

/**
 * The user's home directory: HOME (USERPROFILE on Windows) when set, which is what
 * os.homedir() answers then too (libuv reads that variable first); node:os itself (~0.3 ms
 * to load) only when it is not, so it stays off the path of a license check at start.
 */
function userHome(env: NodeJS.ProcessEnv): string {
	const fromEnv = process.platform === "win32" ? env.USERPROFILE : env.HOME;
	return fromEnv || (process.getBuiltinModule("node:os") as typeof import("node:os")).homedir();
}

/** Where the user set the API URL, in the words they would look for. */
export function apiUrlSetting(source: ConfigSource): string {
	switch (source) {
		case "flag":
			return "--api-url";
		case "env":
			return "CODITECT_API_URL";
		case "config":
			return "api_url in config.yaml";
		default:
			return "--api-url or CODITECT_API_URL";
	}
}

let lastApiUrlSource: ConfigSource = "default";

/**
 * The setting that chose the API URL of this run, for messages that tell the user what to
 * check (a network error should not blame CODITECT_API_URL when --api-url was given).
 */
export function currentApiUrlSetting(): string {
	return apiUrlSetting(lastApiUrlSource);
}

/** Resolves the configuration; throws CliError (exit 1) for an unusable API URL. */
export function resolveConfig(
	flags: ConfigFlags = {},
	env: NodeJS.ProcessEnv = process.env,
): CliConfig {
	const homeSource: ConfigSource = flags.home ? "flag" : env.CODITECT_HOME ? "env" : "default";
	const home = flags.home ? resolve(flags.home) : defaultHome(env);
	const configFile = join(home, "config.yaml");
	const file = readConfigFile(configFile);

	let apiUrl = DEFAULT_API_URL;
	let apiSource: ConfigSource = "default";
	const fromFile = file.values.get("api_url");
	if (flags.apiUrl) {
		apiUrl = flags.apiUrl;
		apiSource = "flag";
	} else if (env.CODITECT_API_URL) {
		apiUrl = env.CODITECT_API_URL;
		apiSource = "env";
	} else if (fromFile) {
		apiUrl = fromFile;
		apiSource = "config";
	}

	let hardwareIdOverride: string | undefined;
	let hwSource: ConfigSource | "os" = "os";
	if (env.CODITECT_HARDWARE_ID) {
		hardwareIdOverride = env.CODITECT_HARDWARE_ID;
		hwSource = "env";
	} else if (file.values.get("hardware_id")) {
		hardwareIdOverride = file.values.get("hardware_id");
		hwSource = "config";
	}

	lastApiUrlSource = apiSource;
	return {
		home,
		apiUrl: normalizeApiUrl(apiUrl, apiSource),
		hardwareIdOverride,
		sources: { home: homeSource, apiUrl: apiSource, hardwareId: hwSource },
		configFile,
		warnings: file.warnings,
	};
}
