import type { CommandDef } from "citty";
import { CliError, EXIT_NETWORK, EXIT_UNLICENSED, EXIT_USAGE } from "../errors";
import type { LicenseCheck } from "../lib-types";
import { runLicenseCheck } from "../license/check";
import { formatDuration, out, print, printJson, rows, warn } from "../output";
import { sharedArgs } from "./_shared";

function exitCodeOf(check: LicenseCheck): 0 | 1 | 2 | 3 {
	if (check.licensed) return 0;
	if (check.code === "MISCONFIGURED" || check.code === "NO_HARDWARE_ID") return EXIT_USAGE;
	return check.network_error !== null ? EXIT_NETWORK : EXIT_UNLICENSED;
}

function printHuman(check: LicenseCheck): void {
	const c = out();
	if (check.licensed) {
		const mark = check.code === "PAST_DUE" ? c.yellow("!") : c.green("✓");
		print(`${mark} ${c.bold("Licensed")} — ${check.plan ?? "?"} (${check.status ?? "?"})`);
		print(
			rows([
				["expires", check.expires_at ?? "no end date (renews)"],
				[
					check.offline_license ? "offline license left" : "offline grace left",
					`${formatDuration(check.grace_remaining_s)} (until ${check.token_expires_at})`,
				],
				check.offline_license
					? ["issued", check.last_online_at ?? "?"]
					: ["last online", check.last_online_at ?? "never"],
				["checked", check.offline ? "locally (no network)" : "online just now"],
			]),
		);
		if (check.code === "PAST_DUE") warn(check.message);
		// network_error is a whole sentence already ("Could not reach the license server at …").
		if (check.network_error !== null) warn(check.network_error);
		if (check.revalidation === "background") {
			print(c.dim("  refreshing the license in the background"));
		}
		return;
	}
	print(`${c.red("✗")} ${c.bold("Not licensed")} (${check.code})`);
	print(`  ${check.message}`);
	if (check.network_error !== null) {
		print(`  ${c.yellow("!")} ${check.network_error}`);
	}
}

const args = {
	online: { type: "boolean", description: "Revalidate with the server now" },
	...sharedArgs,
} as const;

export interface StatusArgs {
	online?: boolean | undefined;
	json?: boolean | undefined;
	"api-url"?: string | undefined;
}

/**
 * The flags of `license status` when argv is exactly that command with only its own flags;
 * otherwise null (`--help`, a typo: citty then parses it as usual). A host tool runs this
 * command at every start, and parsing three flags by hand spares loading citty.
 */
export function parseStatusArgs(rawArgs: readonly string[]): StatusArgs | null {
	if (rawArgs[0] !== "license" || rawArgs[1] !== "status") return null;
	const args: StatusArgs = {};
	for (let i = 2; i < rawArgs.length; i++) {
		const arg = rawArgs[i] ?? "";
		if (arg === "--json") args.json = true;
		else if (arg === "--online") args.online = true;
		else if (arg.startsWith("--api-url=")) args["api-url"] = arg.slice("--api-url=".length);
		else if (arg === "--api-url" && i + 1 < rawArgs.length) args["api-url"] = rawArgs[++i];
		else return null;
	}
	return args;
}

/** The command body; index.ts and status.ts also call it directly, without citty. */
export async function runStatus(args: StatusArgs): Promise<void> {
	const entry = process.argv[1];
	const check = await runLicenseCheck({
		apiUrl: args["api-url"],
		online: args.online ? "always" : "auto",
		...(entry ? { refreshCommand: [process.execPath, entry] } : {}),
	});
	if (args.json) printJson(check);
	else printHuman(check);
	const code = exitCodeOf(check);
	if (code !== 0) {
		throw new CliError(check.message, check.code, code, undefined, { reported: true });
	}
}

// A plain CommandDef rather than defineCommand (an identity function): importing citty here
// would load it on the fast path too.
const command: CommandDef<typeof args> = {
	meta: {
		name: "status",
		description:
			"Check this machine's license offline (online when over 24 h old, or with --online)",
	},
	args,
	run: ({ args }) => runStatus(args),
};

export default command;
