/**
 * `coditect`: the command tree, loaded lazily (each command is imported only when it runs).
 * Errors become output and exit codes in exit.ts.
 *
 * `coditect license status [--json] [--online] [--api-url URL]` is what a host tool runs at
 * every start, so it skips citty altogether: parsing three flags by hand saves loading
 * citty and node:util (several ms of a ~25 ms budget; see bench/cli-status.ts). Anything
 * else on that command line (`--help`, a typo) goes through citty as usual. The installed
 * bin does not even load this file for it: it runs dist/status.cjs (status.ts).
 */
import type { CommandDef } from "citty";
import { parseStatusArgs, runStatus } from "./commands/license-status";
import { exitCodeFor, stripAnsi } from "./exit";
import { out, print } from "./output";
import { allowSpinner } from "./spinner";
import { VERSION } from "./version";

// biome-ignore lint/suspicious/noExplicitAny: citty's command type is generic over its args.
type AnyCommand = CommandDef<any>;

const main: AnyCommand = {
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
		// Answered by runMain itself (it needs the whole tree); here so the help lists it.
		help: {
			meta: {
				name: "help",
				description: "Show the help of a command: coditect help license status",
			},
		},
		ci: () => import("./commands/ci").then((m) => m.default),
		org: () => import("./commands/org").then((m) => m.default),
		machines: () => import("./commands/machines").then((m) => m.default),
		admin: () => import("./commands/admin").then((m) => m.default),
	},
};

export async function runMain(rawArgs: string[] = process.argv.slice(2)): Promise<number> {
	// Words after "--" belong to the wrapped program (`coditect ci run -- tool --help`), not to us.
	const dash = rawArgs.indexOf("--");
	const ours = dash >= 0 ? rawArgs.slice(0, dash) : rawArgs;
	const json = ours.includes("--json");
	// Spinners are for people: never under --json (spinner.ts also checks for a terminal).
	allowSpinner(!json);
	try {
		const fast = parseStatusArgs(rawArgs);
		if (fast !== null) {
			await runStatus(fast);
			return 0;
		}
		const { resolveCommand, checkArguments, helpFooter } = await import("./usage");
		const wantsHelp =
			rawArgs[0] === "help" ||
			ours.includes("--help") ||
			ours.includes("-h") ||
			rawArgs.length === 0;
		if (wantsHelp) {
			const words = rawArgs[0] === "help" ? rawArgs.slice(1) : rawArgs;
			const { cmd, path } = await resolveCommand(main, words, { strict: rawArgs[0] === "help" });
			const { renderUsage } = await import("citty");
			// The parent's name is the whole path, so the usage line reads "coditect license status".
			const parent = path.length > 1 ? { meta: { name: path.slice(0, -1).join(" ") } } : undefined;
			const usage = await renderUsage(cmd, parent);
			const text = `${usage.trimEnd()}\n\n${helpFooter(path, out().bold)}`;
			print(out().enabled ? text : stripAnsi(text));
			return 0;
		}
		if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
			print(VERSION);
			return 0;
		}
		await checkArguments(await resolveCommand(main, rawArgs, { strict: true }));
		const { runCommand } = await import("citty");
		await runCommand(main, { rawArgs });
		return 0;
	} catch (error) {
		return exitCodeFor(error, json);
	}
}

runMain().then((code) => {
	process.exitCode = code;
});
