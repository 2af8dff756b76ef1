/**
 * Human output (short, coloured when the terminal supports it) and `--json` output.
 * Colour follows the usual conventions: NO_COLOR turns it off, FORCE_COLOR on, otherwise
 * only a terminal gets it.
 */

import { fstatSync, writeSync } from "node:fs";

type Paint = (text: string) => string;

export interface Palette {
	enabled: boolean;
	bold: Paint;
	dim: Paint;
	red: Paint;
	green: Paint;
	yellow: Paint;
	cyan: Paint;
}

function colorEnabled(fd: 1 | 2): boolean {
	const env = process.env;
	if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
	if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false";
	if (env.TERM === "dumb") return false;
	// A terminal is a character device. So is /dev/null, where colour codes harm nobody;
	// node:tty would cost start-up time (it loads net and streams) for the same answer.
	try {
		return fstatSync(fd).isCharacterDevice();
	} catch {
		return false;
	}
}

/**
 * Writes straight to the file descriptor. Touching process.stdout builds a stream object,
 * which costs measurable start-up time for the few lines this CLI prints.
 */
function write(fd: 1 | 2, text: string): void {
	try {
		writeSync(fd, text);
	} catch (error) {
		// The reader went away (`coditect … | head`): nothing left to say, like any Unix tool.
		if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error;
	}
}

function palette(enabled: boolean): Palette {
	const wrap =
		(open: number, close: number): Paint =>
		(text) =>
			enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
	return {
		enabled,
		bold: wrap(1, 22),
		dim: wrap(2, 22),
		red: wrap(31, 39),
		green: wrap(32, 39),
		yellow: wrap(33, 39),
		cyan: wrap(36, 39),
	};
}

let stdoutPalette: Palette | undefined;
let stderrPalette: Palette | undefined;

export function out(): Palette {
	stdoutPalette ??= palette(colorEnabled(1));
	return stdoutPalette;
}

export function err(): Palette {
	stderrPalette ??= palette(colorEnabled(2));
	return stderrPalette;
}

export function printJson(value: unknown): void {
	write(1, `${JSON.stringify(value, null, 2)}\n`);
}

export function print(text: string): void {
	write(1, `${text}\n`);
}

/** A warning for humans, on stderr so it never mixes into piped output. */
export function warn(text: string): void {
	write(2, `${err().yellow("!")} ${text}\n`);
}

/** Aligned `label  value` rows. */
/** Writes to stderr (errors, prompts' companions). */
export function printErr(text: string): void {
	write(2, `${text}\n`);
}

export function rows(pairs: ReadonlyArray<readonly [string, string]>): string {
	const width = Math.max(...pairs.map(([label]) => label.length));
	return pairs.map(([label, value]) => `  ${out().dim(label.padEnd(width))}  ${value}`).join("\n");
}

/** "2d 5h", "3h 12m", "45m", "30s". */
export function formatDuration(seconds: number): string {
	const s = Math.max(0, Math.floor(seconds));
	const d = Math.floor(s / 86400);
	const h = Math.floor((s % 86400) / 3600);
	const m = Math.floor((s % 3600) / 60);
	if (d > 0) return `${d}d ${h}h`;
	if (h > 0) return `${h}h ${m}m`;
	if (m > 0) return `${m}m`;
	return `${s}s`;
}
