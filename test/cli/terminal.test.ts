/**
 * The CLI in a real terminal: each run gets a tmux pane (a pseudo-terminal), keys are typed
 * with `send-keys` and the screen read with `capture-pane`. Covers what only a TTY shows:
 * the hidden password prompt (cursor keys must move, not land in the password) and signup
 * asking again after a wrong code. Piped-input counterparts live beside it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAccount, PASSWORD, randomEmail, verificationCode } from "./account-helpers";
import { CLI, perTest, runCli, show } from "./helpers";

const { serverWith, home } = perTest();
const sessions: string[] = [];

afterEach(() => {
	for (const name of sessions.splice(0)) {
		try {
			execFileSync("tmux", ["kill-session", "-t", name]);
		} catch {
			// already gone
		}
	}
});

function tmux(...args: string[]): string {
	return execFileSync("tmux", args, { encoding: "utf8" });
}

/** Starts the CLI in a fresh tmux pane; the pane stays after exit and shows EXIT=<code>. */
function terminal(args: string[], env: Record<string, string>) {
	const name = `coditect-${randomBytes(4).toString("hex")}`;
	sessions.push(name);
	const vars = Object.entries({ NO_COLOR: "1", ...env }).map(([k, v]) => `${k}='${v}'`);
	const quoted = args.map((a) => `'${a}'`).join(" ");
	tmux(
		"new-session",
		"-d",
		"-s",
		name,
		"-x",
		"200",
		"-y",
		"40",
		`env ${vars.join(" ")} '${process.execPath}' '${CLI}' ${quoted}; echo EXIT=$?; sleep 120`,
	);
	const screen = () => tmux("capture-pane", "-p", "-t", name);
	return {
		screen,
		keys: (...keys: string[]) => tmux("send-keys", "-t", name, ...keys),
		/** Types text literally (no key names). */
		type: (text: string) => tmux("send-keys", "-t", name, "-l", text),
		async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const text = screen();
				if (pattern.test(text)) return text;
				if (Date.now() > deadline) throw new Error(`screen never matched ${pattern}:\n${text}`);
				await new Promise((ok) => setTimeout(ok, 100));
			}
		},
	};
}

describe("in a terminal", () => {
	it("a password typed with cursor keys in it logs in (the keys move, they are not typed)", async () => {
		const server = await serverWith({ mail: true });
		const { email } = await createAccount(server);
		const h = await home();
		const t = terminal(["login", "--email", email], {
			CODITECT_HOME: h,
			CODITECT_API_URL: server.url,
		});
		await t.waitFor(/Password/);
		// "correct horse battery", typed with a detour: left twice, right twice, then the rest.
		t.type(PASSWORD.slice(0, 10));
		t.keys("Left", "Left", "Right", "Right");
		t.type(PASSWORD.slice(10));
		t.keys("Enter");
		const text = await t.waitFor(/EXIT=\d/);
		expect(text).toContain(`Logged in as ${email}`);
		expect(text).toContain("EXIT=0");
		expect(text).not.toContain(PASSWORD);
	});

	it("a too-short password is asked again in place, without a request", async () => {
		const h = await home();
		// Nothing listens on port 9: a request would fail with exit 3.
		const t = terminal(["login", "--email", "a@example.com"], {
			CODITECT_HOME: h,
			CODITECT_API_URL: "http://127.0.0.1:9",
		});
		await t.waitFor(/Password/);
		t.type("short");
		t.keys("Enter");
		await t.waitFor(/8 to 128 characters/);
		t.keys("C-c");
		const text = await t.waitFor(/EXIT=\d/);
		expect(text).toContain("EXIT=1");
		expect(text).not.toContain("Could not reach");
	});

	it("signup asks again after a wrong code and then logs in", async () => {
		const server = await serverWith({ mail: true, pilotSignup: true });
		const h = await home();
		const email = randomEmail("tty-signup");
		const t = terminal(["signup", "--email", email], {
			CODITECT_HOME: h,
			CODITECT_API_URL: server.url,
		});
		await t.waitFor(/Password/);
		t.type(PASSWORD);
		t.keys("Enter");
		await t.waitFor(/Repeat password/);
		t.type(PASSWORD);
		t.keys("Enter");
		await t.waitFor(/We sent a 6-digit code/);
		const code = await verificationCode(email);
		t.type(code === "000000" ? "111111" : "000000");
		t.keys("Enter");
		await t.waitFor(/4 tries left/);
		t.type(code);
		t.keys("Enter");
		const text = await t.waitFor(/EXIT=\d/);
		expect(text).toContain(`Logged in as ${email}`);
		expect(text).toContain("EXIT=0");
		await stat(join(h, "credentials.json"));
	});
});

describe("piped and usage", () => {
	it("an unknown option is a usage error with a did-you-mean", async () => {
		const r = await runCli(["activate", "--key-stdn"], { home: await home() });
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain(
			"Unknown option --key-stdn for `coditect activate`. Did you mean --key-stdin?",
		);
	});

	it("help shows examples, environment variables and exit codes", async () => {
		const r = await runCli(["help", "license", "status"], { home: await home() });
		expect(r.code, show(r)).toBe(0);
		expect(r.stdout).toContain("USAGE coditect license status");
		for (const part of [
			"EXAMPLES",
			"coditect license status --online --json",
			"ENVIRONMENT",
			"CODITECT_API_URL",
			"EXIT CODES",
			"3  network failure",
		]) {
			expect(r.stdout).toContain(part);
		}
	});

	it("takes the license key from standard input (--key-stdin and -)", async () => {
		const server = await serverWith({});
		const { license_key } = (await server.admin("/licenses", { plan: "professional" })) as {
			license_key: string;
		};
		for (const flag of ["--key-stdin", "-"]) {
			const h = await home();
			const r = await runCli(["activate", flag, "--json"], {
				home: h,
				apiUrl: server.url,
				stdin: `${license_key}\n`,
			});
			expect(r.code, show(r)).toBe(0);
			expect(r.json).toMatchObject({ activated: true, licensed: true });
		}
		const bad = await runCli(["activate", "--key-stdin"], {
			home: await home(),
			stdin: "CDT-nope\n",
		});
		expect(bad.code, show(bad)).toBe(1);
		expect(bad.stderr).toContain("Keys look like CDT-");
	});
});
