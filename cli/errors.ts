/**
 * The CLI's one error type. Commands throw it; exit.ts is the only place that turns it
 * into output and an exit code (docs/api.md §5: 0 ok, 1 usage/user error, 2 unlicensed or
 * invalid license, 3 network failure with no usable offline grace left).
 */

export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_UNLICENSED = 2;
export const EXIT_NETWORK = 3;

export type ExitCode =
	| typeof EXIT_OK
	| typeof EXIT_USAGE
	| typeof EXIT_UNLICENSED
	| typeof EXIT_NETWORK;

export class CliError extends Error {
	readonly code: string;
	readonly exitCode: ExitCode;
	/** Extra machine-readable fields for `--json` output (never secrets). */
	readonly details: Record<string, unknown> | undefined;
	/** The command already printed its result (e.g. `license status`); only the exit code is left. */
	readonly reported: boolean;
	constructor(
		message: string,
		code: string,
		exitCode: ExitCode = EXIT_USAGE,
		details?: Record<string, unknown>,
		opts: { reported?: boolean } = {},
	) {
		super(message);
		this.name = "CliError";
		this.code = code;
		this.exitCode = exitCode;
		this.details = details;
		this.reported = opts.reported ?? false;
	}
}
