/**
 * dist/status.cjs: `coditect license status` on its own, the command a host tool runs at
 * every start. The bin (dist/coditect.cjs) hands it that command line; it holds the status
 * path only (a third of cli.cjs, so a third of the code for V8 to read and check at each
 * start). A command line the fast path does not take (`--help`, a typo) is refused here,
 * and the bin then loads the whole command line.
 */
import { parseStatusArgs, runStatus } from "./commands/license-status";
import { exitCodeFor } from "./exit";
import { allowSpinner } from "./spinner";

/** Runs `license status` when `rawArgs` is exactly that; false when the full CLI must answer. */
export function runStatusCommand(rawArgs: readonly string[]): boolean {
	const args = parseStatusArgs(rawArgs);
	if (args === null) return false;
	const json = args.json === true;
	allowSpinner(!json);
	runStatus(args).then(
		() => {
			process.exitCode = 0;
		},
		(error: unknown) => {
			process.exitCode = exitCodeFor(error, json);
		},
	);
	return true;
}
