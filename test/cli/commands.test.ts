/** Every command's help and JSON contract, info, config precedence, and the account commands'
 * answers from a plain server (no providers, no billing, invite-only signup). The full
 * account flows are in accounts.test.ts and account-licenses.test.ts. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashHardwareId } from "../../cli/fingerprint";
import { LicenseServer, runCli, show, tempHome } from "./helpers";

let server: LicenseServer;
let home: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
	server = await LicenseServer.start();
});
afterAll(async () => {
	await server.down();
});
beforeAll(async () => {
	({ home, cleanup } = await tempHome());
});
afterAll(async () => cleanup());
afterEach(async () => server.up());

const COMMANDS = [
	["activate"],
	["license", "status"],
	["deactivate"],
	["info"],
	["login"],
	["logout"],
	["whoami"],
	["signup"],
	["upgrade"],
];

describe("usage", () => {
	it.each(COMMANDS)(
		"`%s --help` explains the command, with --json, and exits 0",
		async (...words) => {
			const r = await runCli([...words, "--help"], { home });
			expect(r.code, show(r)).toBe(0);
			expect(r.stdout).toContain("USAGE");
			expect(r.stdout).toContain("--json");
			expect(r.stdout).not.toContain("\u001b[");
		},
	);

	it("lists every command in the top-level help and prints the version", async () => {
		const help = await runCli(["--help"], { home });
		for (const [name] of COMMANDS) expect(help.stdout).toContain(name);
		const version = await runCli(["--version"], { home });
		expect(version.stdout.trim()).toBe("1.0.0-pilot.1");
	});

	it("an unknown command is a usage error (exit 1) that says what to run", async () => {
		const r = await runCli(["frobnicate"], { home });
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("Unknown command frobnicate");
		expect(r.stderr).toContain("coditect --help");
		const json = await runCli(["frobnicate", "--json"], { home });
		expect(json.json).toMatchObject({ error: { code: "USAGE" } });
	});

	it("refuses unknown options and options without a value (exit 1), with a did-you-mean", async () => {
		const typo = await runCli(["license", "status", "--onlin"], { home });
		expect(typo.code, show(typo)).toBe(1);
		expect(typo.stderr).toContain("Unknown option --onlin for `coditect license status`");
		expect(typo.stderr).toContain("Did you mean --online?");
		const other = await runCli(["deactivate", "--forc", "--json"], { home });
		expect(other.code, show(other)).toBe(1);
		expect(other.json).toMatchObject({ error: { code: "USAGE" } });
		expect(JSON.stringify(other.json)).toContain("Did you mean --force?");
		const missing = await runCli(["activate", "--api-url"], { home });
		expect(missing.code, show(missing)).toBe(1);
		expect(missing.stderr).toContain("The option --api-url needs a value: --api-url <url>.");
		const command = await runCli(["activte"], { home });
		expect(command.stderr).toContain("Did you mean `coditect activate`?");
	});

	it("`coditect help [command]` shows that command's help, whose usage line starts with coditect", async () => {
		const top = await runCli(["help"], { home });
		expect(top.code, show(top)).toBe(0);
		expect(top.stdout).toContain("USAGE");
		expect(top.stdout).toContain("help");
		const status = await runCli(["help", "license", "status"], { home });
		expect(status.code, show(status)).toBe(0);
		expect(status.stdout).toContain("coditect license status");
		expect(status.stdout).toContain("--online");
		const viaFlag = await runCli(["license", "status", "--help"], { home });
		expect(viaFlag.stdout).toMatch(/USAGE\s+coditect license status/);
		const group = await runCli(["license"], { home });
		expect(group.code, show(group)).toBe(1);
		expect(group.stderr).toContain("`coditect license` needs a command: status.");
		expect(group.stderr).not.toContain("..");
	});

	it("refuses plain http to a non-loopback server (exit 1)", async () => {
		const r = await runCli(["license", "status"], { home, apiUrl: "http://license.example.com" });
		expect(r.code, show(r)).toBe(1);
		expect(r.stdout + r.stderr).toContain("https");
	});
});

describe("info and configuration", () => {
	it("shows the hashed hardware id (never the raw one) and where each setting came from", async () => {
		const r = await runCli(["info", "--json"], {
			home,
			apiUrl: server.url,
			hardwareId: "ci-runner-7",
		});
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({
			version: "1.0.0-pilot.1",
			api_url: server.url,
			hardware_id: hashHardwareId("ci-runner-7"),
			sources: { api_url: "env", home: "env", hardware_id: "env" },
		});
		expect(String(r.json.hardware_id)).toMatch(/^[0-9a-f]{64}$/);
		expect(r.stdout).not.toContain("ci-runner-7");
	});

	it("hashes with HMAC-SHA-256 keyed by the product key, as an independent implementation does", async () => {
		const { createHmac } = await import("node:crypto");
		const expected = createHmac("sha256", "coditect-hwid-v1").update("ci-runner-7").digest("hex");
		expect(hashHardwareId("ci-runner-7")).toBe(expected);
		expect(hashHardwareId("  CI-Runner-7\n")).toBe(expected);
	});

	it("uses the OS machine id when no override is set", async () => {
		const r = await runCli(["info", "--json"], { home, hardwareId: null });
		expect(r.code, show(r)).toBe(0);
		expect(String(r.json.hardware_id)).toMatch(/^[0-9a-f]{64}$/);
		expect(r.json).toMatchObject({
			sources: { hardware_id: "linux", api_url: "default" },
			api_url: "https://license.coditect.dev",
		});
	});

	it("applies flags over environment over config.yaml over defaults", async () => {
		const t = await tempHome();
		try {
			await mkdir(t.home, { recursive: true });
			await writeFile(
				join(t.home, "config.yaml"),
				"# local settings\napi_url: 'http://127.0.0.1:9999'\nhardware_id: from-config\ncolour: blue\n",
			);
			const fromFile = await runCli(["info", "--json"], { home: t.home, hardwareId: null });
			expect(fromFile.json).toMatchObject({
				api_url: "http://127.0.0.1:9999",
				hardware_id: hashHardwareId("from-config"),
				sources: { api_url: "config", hardware_id: "config" },
			});
			expect(fromFile.json.warnings).toEqual(['config.yaml: unknown setting "colour" ignored']);
			const fromEnv = await runCli(["info", "--json"], {
				home: t.home,
				apiUrl: "http://127.0.0.1:8888",
			});
			expect(fromEnv.json).toMatchObject({
				api_url: "http://127.0.0.1:8888",
				sources: { api_url: "env", hardware_id: "env" },
			});
			const fromFlag = await runCli(
				["info", "--json", "--api-url", "https://licenses.example.com/"],
				{
					home: t.home,
					apiUrl: "http://127.0.0.1:8888",
				},
			);
			expect(fromFlag.json).toMatchObject({
				api_url: "https://licenses.example.com",
				sources: { api_url: "flag" },
			});
		} finally {
			await t.cleanup();
		}
	});
});

describe("account commands against a plain server", () => {
	it("login with an unknown account is refused with the generic message (exit 1), storing nothing", async () => {
		const r = await runCli(["login", "--email", "ada@example.com", "--password-stdin"], {
			home,
			apiUrl: server.url,
			stdin: "correct horse battery\n",
		});
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("Wrong email or password");
		expect(r.stderr).not.toContain("correct horse");
		const who = await runCli(["whoami", "--json"], { home, apiUrl: server.url });
		expect(who.code, show(who)).toBe(1);
		expect(who.json).toMatchObject({ error: { code: "NOT_LOGGED_IN" } });
	});

	it("login --provider says when the server has no such provider configured (exit 1)", async () => {
		const r = await runCli(["login", "--provider", "github", "--no-browser"], {
			home,
			apiUrl: server.url,
		});
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("does not offer login with github");
	});

	it("login against an unreachable server is a network failure (exit 3)", async () => {
		await server.down();
		const r = await runCli(["login", "--email", "ada@example.com", "--password-stdin", "--json"], {
			home,
			apiUrl: server.url,
			stdin: "correct horse battery\n",
		});
		expect(r.code, show(r)).toBe(3);
		expect(r.json).toMatchObject({ error: { code: "NETWORK_ERROR" } });
	});

	it("signup without an invite on a pilot-closed server says an invite is needed (exit 1)", async () => {
		const r = await runCli(["signup", "--email", "ada@example.com", "--password-stdin"], {
			home,
			apiUrl: server.url,
			stdin: "correct horse battery\n",
		});
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("Signing up needs a valid, unus");
	});

	it("activate without a key, upgrade and whoami need a login first (exit 1)", async () => {
		for (const args of [["activate"], ["upgrade", "starter"], ["whoami"]]) {
			const r = await runCli(args, { home, apiUrl: server.url });
			expect(r.code, show(r)).toBe(1);
			expect(r.stderr).toContain("coditect login");
		}
		const keyless = await runCli(["activate"], { home, apiUrl: server.url });
		expect(keyless.stderr).toContain("`coditect activate KEY`");
		expect(keyless.stderr).not.toContain("No license has this key");
	});

	it("logout without a session succeeds and says so", async () => {
		const r = await runCli(["logout"], { home, apiUrl: server.url });
		expect(r.code, show(r)).toBe(0);
		expect(r.stdout).toContain("not logged in");
	});

	it("asks for the password without a TTY from stdin, and says so when stdin is empty", async () => {
		const r = await runCli(["login", "--email", "ada@example.com"], {
			home,
			apiUrl: server.url,
			stdin: "",
		});
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("standard input");
	});
});
