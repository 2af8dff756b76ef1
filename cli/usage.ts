/**
 * Reading the command line before citty runs it: the command a line names, unknown options
 * and missing option values (citty accepts both silently), each refused with a "did you
 * mean". Loaded only off the `license status` fast path.
 */
import type { ArgsDef, CommandDef } from "citty";
import { CliError, EXIT_USAGE } from "./errors";

// biome-ignore lint/suspicious/noExplicitAny: citty's command type is generic over its args.
export type AnyCommand = CommandDef<any>;

async function resolveValue<T>(value: T | Promise<T> | (() => T | Promise<T>)): Promise<T> {
	return typeof value === "function" ? (value as () => T | Promise<T>)() : value;
}

function distance(a: string, b: string): number {
	const row = Array.from({ length: b.length + 1 }, (_, i) => i);
	for (let i = 1; i <= a.length; i++) {
		let diagonal = row[0] ?? 0;
		row[0] = i;
		for (let j = 1; j <= b.length; j++) {
			const above = row[j] ?? 0;
			row[j] = Math.min(
				above + 1,
				(row[j - 1] ?? 0) + 1,
				diagonal + (a[i - 1] === b[j - 1] ? 0 : 1),
			);
			diagonal = above;
		}
	}
	return row[b.length] ?? 0;
}

/** The closest name, when it is close enough to be what the user meant. */
export function closest(word: string, names: readonly string[]): string | null {
	let best: string | null = null;
	let bestDistance = Number.POSITIVE_INFINITY;
	for (const name of names) {
		const d = name.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, name);
		if (d < bestDistance) [best, bestDistance] = [name, d];
	}
	return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function usageError(message: string, help: string): CliError {
	return new CliError(`${message} Run \`${help}\` for usage.`, "USAGE", EXIT_USAGE);
}

export interface ResolvedCommand {
	cmd: AnyCommand;
	/** "coditect license status": what the user typed to reach it. */
	path: string[];
	/** argv after the command words. */
	rest: string[];
}

/**
 * The command the leading words of argv name. A word that names no subcommand of a command
 * that only groups others (`coditect license frob`) is an unknown command.
 */
export async function resolveCommand(
	main: AnyCommand,
	rawArgs: string[],
	opts: { strict: boolean },
): Promise<ResolvedCommand> {
	let cmd = main;
	const path = ["coditect"];
	let i = 0;
	for (; i < rawArgs.length; i++) {
		const word = rawArgs[i] ?? "";
		if (word.startsWith("-")) break;
		const subs = cmd.subCommands ? await resolveValue(cmd.subCommands) : undefined;
		if (subs === undefined) break;
		const next = subs[word];
		if (next === undefined) {
			if (!opts.strict || cmd.run) break;
			const guess = closest(word, Object.keys(subs));
			throw usageError(
				`Unknown command ${word}${path.length > 1 ? ` for \`${path.join(" ")}\`` : ""}.${guess ? ` Did you mean \`${[...path, guess].join(" ")}\`?` : ""}`,
				path.length > 1 ? `coditect help ${path.slice(1).join(" ")}` : "coditect --help",
			);
		}
		cmd = (await resolveValue(next)) as AnyCommand;
		path.push(word);
	}
	// A group with a default command (`coditect org` = `coditect org list`) runs that one.
	const fallback = cmd.default ? await resolveValue(cmd.default) : undefined;
	const subs = cmd.subCommands ? await resolveValue(cmd.subCommands) : undefined;
	const implied = typeof fallback === "string" ? subs?.[fallback] : undefined;
	if (implied !== undefined) {
		cmd = (await resolveValue(implied)) as AnyCommand;
		path.push(String(fallback));
	}
	return { cmd, path, rest: rawArgs.slice(i) };
}

/** Refuses unknown options, options without their value, and a group without its command. */
export async function checkArguments(resolved: ResolvedCommand): Promise<void> {
	const { cmd, path, rest } = resolved;
	const label = path.join(" ");
	const help = `coditect help ${path.slice(1).join(" ")}`.trimEnd();
	if (!cmd.run && cmd.subCommands) {
		const names = Object.keys(await resolveValue(cmd.subCommands));
		throw usageError(`\`${label}\` needs a command: ${names.join(", ")}.`, help);
	}
	const defs: ArgsDef = cmd.args ? await resolveValue(cmd.args) : {};
	const options = Object.entries(defs).filter(([, def]) => def.type !== "positional");
	const names = options.map(([name]) => name);
	for (let i = 0; i < rest.length; i++) {
		const token = rest[i] ?? "";
		if (token === "--") return;
		if (!token.startsWith("-") || token === "-") continue;
		const body = token.replace(/^--?/, "");
		const eq = body.indexOf("=");
		const name = eq === -1 ? body : body.slice(0, eq);
		// No command here declares short aliases, so only long names count.
		const def = defs[name];
		if (def === undefined || def.type === "positional") {
			const negated = name.startsWith("no-") ? defs[name.slice(3)] : undefined;
			if (negated?.type === "boolean" && eq === -1) continue;
			const guess = closest(name, names);
			throw usageError(
				`Unknown option ${token.slice(0, eq === -1 ? undefined : token.indexOf("="))} for \`${label}\`.${guess ? ` Did you mean --${guess}?` : ""}`,
				help,
			);
		}
		if (def.type === "boolean") continue;
		if (eq !== -1) continue;
		const value = rest[i + 1];
		if (value === undefined || value.startsWith("--")) {
			const hint = "valueHint" in def && def.valueHint ? ` <${def.valueHint}>` : " <value>";
			throw usageError(`The option --${name} needs a value: --${name}${hint}.`, help);
		}
		i++;
	}
}

/** Examples shown under a command's help, by its path after "coditect". */
const EXAMPLES: Record<string, string[]> = {
	"": [
		"coditect login                      # email and password",
		"coditect activate --key-stdin < key.txt",
		"coditect license status --json",
	],
	activate: [
		"coditect activate                   # with your account's license (after login)",
		"coditect activate --key-stdin       # key typed at a hidden prompt or piped",
		"pbpaste | coditect activate -",
		"coditect activate --offline-request --license lic_…   # air-gapped: write the request",
		"coditect activate --offline-response coditect-offline-license.json",
	],
	"license status": ["coditect license status", "coditect license status --online --json"],
	login: [
		"coditect login --email me@example.com",
		"coditect login --provider github",
		"coditect login --sso me@acme.com        # your organisation's single sign-on",
		"coditect login --sso org_… --no-browser  # by organisation id; only print the address",
	],
	signup: ["coditect signup --invite CODE"],
	deactivate: [
		"coditect deactivate",
		"coditect deactivate --force   # server unreachable",
		"coditect deactivate --offline --out receipt.json   # air-gapped: write a release receipt",
	],
	"admin offline-activate": [
		"coditect admin offline-activate coditect-offline-request.json --out license.json",
		"CODITECT_ADMIN_TOKEN=… coditect admin offline-activate request.json   # as the operator",
	],
	"admin offline-deactivate": ["coditect admin offline-deactivate coditect-offline-release.json"],
	"ci run": ["coditect ci run -- npm test"],
	upgrade: ["coditect upgrade professional --interval year"],
	"org webhooks add": [
		"coditect org webhooks add https://hooks.example.com/coditect --events license.created,seat.assigned",
	],
	"org webhooks deliveries": ["coditect org webhooks deliveries whe_… --limit 5 --json"],
};

const ENVIRONMENT = [
	"CODITECT_API_URL      License server URL (--api-url wins)",
	"CODITECT_HOME         Where license.json and credentials.json live (default ~/.coditect)",
	"CODITECT_HARDWARE_ID  This machine's identity, instead of the OS machine id",
	"CODITECT_ADMIN_TOKEN  `coditect admin`: upload as the operator (else as the logged-in user)",
	"NO_COLOR, FORCE_COLOR Colour off / on",
];

const EXIT_CODES = [
	"0  ok",
	"1  usage or user error",
	"2  not licensed, or the license is invalid",
	"3  network failure with no offline grace left",
];

/** The EXAMPLES, ENVIRONMENT and EXIT CODES sections under citty's usage text. */
export function helpFooter(path: string[], bold: (text: string) => string): string {
	const key = path.slice(1).join(" ");
	const section = (title: string, lines: string[]) =>
		lines.length ? `${bold(title)}\n\n${lines.map((l) => `  ${l}`).join("\n")}\n` : "";
	return [
		section("EXAMPLES", EXAMPLES[key] ?? []),
		section("ENVIRONMENT", ENVIRONMENT),
		section("EXIT CODES", EXIT_CODES),
	]
		.filter(Boolean)
		.join("\n");
}
