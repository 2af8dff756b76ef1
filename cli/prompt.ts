/**
 * Interactive input: visible prompts and hidden password entry. In a terminal they are
 * @clack/prompts (cursor keys, paste, masking and Ctrl-C handled by a kept library instead
 * of a hand-rolled raw-mode loop, where an arrow key used to land in a hidden password as
 * "\x1b[D"). It is imported only when a prompt is shown, so `license status` and
 * `checkLicense()` never load it. Without a TTY (scripts, CI) lines are read from stdin in
 * order, so `printf 'me@x\n' | coditect login --password-stdin` style automation works and
 * nothing blocks waiting for a keyboard.
 */
import { createInterface } from "node:readline";
import { CliError } from "./errors";

let pipedLines: AsyncIterator<string> | undefined;

async function nextPipedLine(what: string): Promise<string> {
	pipedLines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
	const next = await pipedLines.next();
	if (next.done) {
		throw new CliError(
			`Expected the ${what} on standard input, but it ended. Pass it with a flag or run in a terminal.`,
			"MISSING_INPUT",
		);
	}
	return next.value;
}

export function interactive(): boolean {
	return process.stdin.isTTY === true;
}

/** A check run on each submitted answer: a message re-asks in place, undefined accepts. */
export type Validate = (value: string) => string | undefined;

export interface PromptOptions {
	validate?: Validate;
	/** The error code when a piped answer fails `validate`. */
	code?: string;
}

function cancelled(): CliError {
	return new CliError("Cancelled.", "CANCELLED");
}

/**
 * Piped input cannot be asked again, so a piped answer that fails the check is an error with
 * the check's message.
 */
function checkPiped(value: string, opts: PromptOptions): string {
	const problem = opts.validate?.(value);
	if (problem !== undefined) throw new CliError(`${problem}.`, opts.code ?? "INVALID_INPUT");
	return value;
}

/** Asks for a line of visible text. */
export async function ask(
	question: string,
	what: string,
	opts: PromptOptions = {},
): Promise<string> {
	if (!interactive()) return checkPiped((await nextPipedLine(what)).trim(), opts);
	const { text, isCancel } = await import("@clack/prompts");
	const validate = opts.validate;
	const answer = await text({
		message: question.replace(/:\s*$/, ""),
		output: process.stderr,
		withGuide: false,
		...(validate ? { validate: (value) => validate((value ?? "").trim()) } : {}),
	});
	if (isCancel(answer)) throw cancelled();
	return answer.trim();
}

/** Reads one line without echo; Ctrl-C aborts with exit 1. */
export async function askHidden(
	question: string,
	what: string,
	opts: PromptOptions = {},
): Promise<string> {
	if (!interactive()) return checkPiped(await nextPipedLine(what), opts);
	const { password, isCancel } = await import("@clack/prompts");
	const validate = opts.validate;
	const answer = await password({
		message: question.replace(/:\s*$/, ""),
		output: process.stderr,
		withGuide: false,
		...(validate ? { validate: (value) => validate(value ?? "") } : {}),
	});
	if (isCancel(answer)) throw cancelled();
	return answer;
}
