/**
 * A spinner for network waits, on stderr, for people at a terminal only. Commands opt in
 * (index.ts turns it on unless --json); the library, pipes and CI never see one. It shows
 * only once a wait passes SHOW_AFTER_MS, so fast answers print nothing extra, and it wipes
 * its line before anything else is written. node:tty is loaded only when a spinner is due:
 * `license status` start-up must not pay for it.
 */
import { writeSync } from "node:fs";

const SHOW_AFTER_MS = 300;
const FRAME_MS = 80;
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

let allowed = false;
let active = false;

/** Lets this run show spinners (a command for humans, not --json). */
export function allowSpinner(on = true): void {
	allowed = on;
}

function stderrIsTerminal(): boolean {
	if (process.env.TERM === "dumb" || process.env.CI) return false;
	const tty = process.getBuiltinModule("node:tty") as typeof import("node:tty");
	return tty.isatty(2);
}

function draw(text: string): void {
	try {
		writeSync(2, text);
	} catch {
		// stderr went away: the wait itself still matters, its decoration does not.
	}
}

/**
 * Awaits `work`, with "⠋ label…" on stderr while it takes longer than 300 ms. Nested waits
 * (a poll loop of requests) keep the outer spinner.
 */
export async function withSpinner<T>(
	label: string,
	work: Promise<T> | (() => Promise<T>),
): Promise<T> {
	const promise = typeof work === "function" ? work() : work;
	if (!allowed || active) return promise;
	active = true;
	let frame = 0;
	let shown = false;
	let ticker: ReturnType<typeof setInterval> | undefined;
	const starter = setTimeout(() => {
		if (!stderrIsTerminal()) return;
		shown = true;
		const paint = () => draw(`\r${FRAMES[frame++ % FRAMES.length]} ${label}…`);
		paint();
		ticker = setInterval(paint, FRAME_MS);
		ticker.unref();
	}, SHOW_AFTER_MS);
	starter.unref();
	try {
		return await promise;
	} finally {
		clearTimeout(starter);
		if (ticker) clearInterval(ticker);
		if (shown) draw("\r\u001b[2K");
		active = false;
	}
}
