/**
 * `coditect`: the command tree, loaded lazily (each command is imported only when it runs,
 * so `license status` loads citty, the check and nothing else), and the one place that
 * turns errors into output and exit codes.
 */
import { stripVTControlCharacters } from "node:util";
import { type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { CliError, EXIT_USAGE } from "./errors";
import { err as errPalette, out, printJson } from "./output";
import { VERSION } from "./version";

const main = defineCommand({
	meta: {
		name: "coditect",
		version: VERSION,
		description: "CODITECT license and account tool",
	},
	subCommands: {
		activate: () => import("./commands/activate").then((m) => m.default),
		license: () => import("./commands/license").then((m) => m.default),
		deactivate: () => import("./commands/deactivate").then((m) => m.default),
		info: () => import("./commands/info").then((m) => m.default),
		login: () => import("./commands/login").then((m) => m.default),
		logout: () => import("./commands/logout").then((m) => m.default),
		whoami: () => import("./commands/whoami").then((m) => m.default),
		signup: () => import("./commands/signup").then((m) => m.default),
		upgrade: () => import("./commands/upgrade").then((m) => m.default),
	},
});

type AnyCommand = CommandDef<Record<string, never>>;

async function resolveValue<T>(value: T | Promise<T> | (() => T | Promise<T>)): Promise<T> {
	return typeof value === "function" ? (value as () => T | Promise<T>)() : value;
}

/** The command named by the leading words of argv, and its parent (for `--help`). */
async function commandFor(rawArgs: string[]): Promise<[AnyCommand, AnyCommand | undefined]> {
	let cmd = main as AnyCommand;
	let parent: AnyCommand | undefined;
	for (const word of rawArgs) {
		if (word.startsWith("-")) continue;
		const subs = cmd.subCommands ? await resolveValue(cmd.subCommands) : undefined;
		const next = subs?.[word];
		if (next === undefined) break;
		parent = cmd;
		cmd = (await resolveValue(next)) as AnyCommand;
	}
	return [cmd, parent];
}

function isCittyUsageError(error: unknown): error is Error {
	return error instanceof Error && error.name === "CLIError";
}

function reportError(error: CliError, json: boolean): void {
	if (json) {
		printJson({ error: { code: error.code, message: error.message, ...error.details } });
		return;
	}
	process.stderr.write(`${errPalette().red("Error:")} ${error.message}\n`);
}

export async function runMain(rawArgs: string[] = process.argv.slice(2)): Promise<number> {
	const json = rawArgs.includes("--json");
	try {
		if (rawArgs.includes("--help") || rawArgs.includes("-h") || rawArgs.length === 0) {
			const usage = await renderUsage(...(await commandFor(rawArgs)));
			process.stdout.write(`${out().enabled ? usage : stripVTControlCharacters(usage)}\n\n`);
			return 0;
		}
		if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
			process.stdout.write(`${VERSION}\n`);
			return 0;
		}
		await runCommand(main, { rawArgs });
		return 0;
	} catch (error) {
		if (error instanceof CliError) {
			if (!error.reported) reportError(error, json);
			return error.exitCode;
		}
		if (isCittyUsageError(error)) {
			const usage = new CliError(
				`${stripVTControlCharacters(error.message)}. Run \`coditect --help\` for usage.`,
				"USAGE",
				EXIT_USAGE,
			);
			reportError(usage, json);
			return EXIT_USAGE;
		}
		const message = error instanceof Error ? error.message : String(error);
		reportError(
			new CliError(
				`Unexpected failure: ${message}. Please report this (with \`coditect info\`).`,
				"INTERNAL",
			),
			json,
		);
		return EXIT_USAGE;
	}
}

runMain().then((code) => {
	process.exitCode = code;
});
