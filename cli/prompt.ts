/**
 * Interactive input: visible prompts and hidden password entry. Without a TTY (scripts, CI)
 * lines are read from stdin in order, so `printf 'me@x\n' | coditect login --password-stdin`
 * style automation works and nothing blocks waiting for a keyboard.
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

/** Asks for a line of visible text. */
export async function ask(question: string, what: string): Promise<string> {
	if (!interactive()) return (await nextPipedLine(what)).trim();
	const rl = createInterface({ input: process.stdin, output: process.stderr });
	try {
		return (await new Promise<string>((resolve) => rl.question(question, resolve))).trim();
	} finally {
		rl.close();
	}
}

/** Reads one line from stdin without echo (raw mode); Ctrl-C aborts with exit 1. */
export async function askHidden(question: string, what: string): Promise<string> {
	if (!interactive()) return nextPipedLine(what);
	const stdin = process.stdin;
	process.stderr.write(question);
	stdin.setRawMode(true);
	stdin.resume();
	stdin.setEncoding("utf8");
	try {
		return await new Promise<string>((resolve, reject) => {
			let value = "";
			const onData = (chunk: string) => {
				for (const char of chunk) {
					if (char === "\r" || char === "\n" || char === "\u0004") {
						stdin.off("data", onData);
						process.stderr.write("\n");
						resolve(value);
						return;
					}
					if (char === "\u0003") {
						stdin.off("data", onData);
						process.stderr.write("\n");
						reject(new CliError("Cancelled.", "CANCELLED"));
						return;
					}
					if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
					else value += char;
				}
			};
			stdin.on("data", onData);
		});
	} finally {
		stdin.setRawMode(false);
		stdin.pause();
	}
}
