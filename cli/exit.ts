/**
 * The one place that turns a thrown error into output and an exit code, shared by the full
 * command line (index.ts) and the `license status` entry (status.ts).
 */
import { CliError, EXIT_USAGE } from "./errors";
import { err as errPalette, printErr, printJson } from "./output";

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

export function stripAnsi(text: string): string {
	return text.replace(ANSI, "");
}

function isCittyUsageError(error: unknown): error is Error {
	return error instanceof Error && error.name === "CLIError";
}

function reportError(error: CliError, json: boolean): void {
	if (json) {
		printJson({ error: { code: error.code, message: error.message, ...error.details } });
		return;
	}
	printErr(`${errPalette().red("Error:")} ${error.message}`);
}

/** Prints what `error` means (unless the command already did) and returns the exit code. */
export function exitCodeFor(error: unknown, json: boolean): number {
	if (error instanceof CliError) {
		if (!error.reported) reportError(error, json);
		return error.exitCode;
	}
	if (isCittyUsageError(error)) {
		const usage = new CliError(
			`${stripAnsi(error.message).replace(/\.+$/, "")}. Run \`coditect --help\` for usage.`,
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
