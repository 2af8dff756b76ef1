/**
 * The CLI as a real process (the built bundle) with a temporary home, against the real
 * Node server on the run's database. Offline = the server stopped; time travel = the
 * process run under faketime (libfaketime), never a switch inside the product.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, inject } from "vitest";
import { type RunningServer, startServer } from "../../src/server";
import { freePort } from "../support/free-port";

export const CLI = resolve(import.meta.dirname, "../../cli/dist/coditect.cjs");

export interface CliResult {
	code: number | null;
	stdout: string;
	stderr: string;
	/** Parsed stdout (commands run with --json). */
	json: Record<string, unknown>;
}

/** What a test server offers beyond licenses; each one is played by the run's fakes. */
export interface ServerFeatures {
	/** Google and GitHub sign-in, both played by oauth2-mock-server. */
	oauth?: boolean;
	/** Mail through the fake Resend endpoint, so tests can read verification codes. */
	mail?: boolean;
	/** Stripe, played by the fake Stripe (test/support/stripe-fake.ts). */
	billing?: boolean;
	/** ENABLE_PILOT_SIGNUP=true: signup without an invite. */
	pilotSignup?: boolean;
	/** SSO domain checks through the fake DNS-over-HTTPS endpoint on the mock. */
	sso?: boolean;
}

function featureSettings(features: ServerFeatures): Record<string, string> {
	const issuer = inject("oauthIssuer");
	return {
		...(features.oauth
			? {
					GOOGLE_CLIENT_ID: "google-test-client",
					GOOGLE_CLIENT_SECRET: "google-test-secret",
					GOOGLE_ISSUER: issuer,
					GITHUB_CLIENT_ID: "github-test-client",
					GITHUB_CLIENT_SECRET: "github-test-secret",
					GITHUB_AUTHORIZATION_URL: `${issuer}/authorize`,
					GITHUB_TOKEN_URL: `${issuer}/token`,
					GITHUB_API_URL: issuer,
				}
			: {}),
		...(features.mail ? { RESEND_API_KEY: inject("resendApiKey"), RESEND_API_BASE: issuer } : {}),
		...(features.billing
			? {
					STRIPE_SECRET_KEY: inject("stripeSecretKey"),
					STRIPE_WEBHOOK_SECRET: inject("stripeWebhookSecret"),
					STRIPE_API_BASE: inject("stripeApiBase"),
				}
			: {}),
		...(features.pilotSignup ? { ENABLE_PILOT_SIGNUP: "true" } : {}),
		...(features.sso ? { DNS_OVER_HTTPS_URL: `${issuer}/dns-query` } : {}),
	};
}

/**
 * A license server on a fixed port, so it can be stopped (offline) and started again. Each
 * start is a new process-level server: its in-memory rate limits (per IP, per key) start empty.
 */
export class LicenseServer {
	readonly port: number;
	readonly url: string;
	private readonly features: ServerFeatures;
	private running: RunningServer | null = null;

	private constructor(port: number, features: ServerFeatures) {
		this.port = port;
		this.url = `http://127.0.0.1:${port}`;
		this.features = features;
	}

	static async start(features: ServerFeatures = {}): Promise<LicenseServer> {
		const server = new LicenseServer(await freePort(), features);
		await server.up();
		return server;
	}

	async up(): Promise<void> {
		if (this.running) return;
		this.running = await startServer({
			port: this.port,
			host: "127.0.0.1",
			dataDir: null,
			log: () => {},
			env: {
				DATABASE_URL: inject("databaseUrl"),
				ADMIN_TOKEN: inject("adminToken"),
				LICENSE_SIGNING_KEY: inject("signingKey"),
				LICENSE_KEY_PEPPER: inject("pepper"),
				JWT_SECRET: inject("jwtSecret"),
				PUBLIC_URL: this.url,
				DATABASE_POOL_MAX: "4",
				// Each test file runs the webhook outbox itself: no server may claim its rows meanwhile.
				WEBHOOK_DELIVERY_SECONDS: "0",
				...featureSettings(this.features),
			},
		});
	}

	async down(): Promise<void> {
		const running = this.running;
		this.running = null;
		await running?.close();
	}

	async admin(path: string, body: unknown): Promise<Record<string, unknown>> {
		const res = await fetch(`${this.url}/api/v1/admin${path}`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${inject("adminToken")}`,
				"content-type": "application/json",
			},
			body: JSON.stringify(body),
		});
		const json = (await res.json()) as Record<string, unknown>;
		if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${JSON.stringify(json)}`);
		return json;
	}

	/** A new operator license: its key and id. */
	async mintLicense(
		body: Record<string, unknown> = { plan: "professional" },
	): Promise<{ key: string; id: string }> {
		const json = await this.admin("/licenses", body);
		const license = json.license as { id: string };
		return { key: String(json.license_key), id: license.id };
	}
}

export interface RunOptions {
	home: string;
	apiUrl?: string;
	hardwareId?: string | null;
	/** libfaketime offset, e.g. "+25h" or "-10m" (run as `faketime -f`). */
	faketime?: string;
	stdin?: string;
	env?: Record<string, string>;
	timeoutMs?: number;
	/** Working directory (default: the test runner's); files a command writes by default land here. */
	cwd?: string;
}

/** A CLI process still running: the test reads its output as it comes and types into it. */
export interface CliProcess {
	/** Resolves with the first match of `pattern` in stderr (now or later). */
	stderrMatch(pattern: RegExp): Promise<RegExpExecArray>;
	/** Types one line on standard input. */
	writeLine(line: string): void;
	/** Closes standard input, after `text` when given. */
	endInput(text?: string): void;
	/** The exit and everything printed. */
	result: Promise<CliResult>;
}

export function spawnCli(args: string[], opts: RunOptions): CliProcess {
	const env: Record<string, string> = {
		PATH: process.env.PATH ?? "",
		HOME: opts.home,
		CODITECT_HOME: opts.home,
		NO_COLOR: "1",
		...(opts.apiUrl ? { CODITECT_API_URL: opts.apiUrl } : {}),
		...(opts.hardwareId === null
			? {}
			: { CODITECT_HARDWARE_ID: opts.hardwareId ?? "test-machine-1" }),
		...opts.env,
	};
	const [file, argv] = opts.faketime
		? ["faketime", ["-f", opts.faketime, process.execPath, CLI, ...args]]
		: [process.execPath, [CLI, ...args]];
	const child = spawn(file, argv, {
		env,
		stdio: ["pipe", "pipe", "pipe"],
		...(opts.cwd ? { cwd: opts.cwd } : {}),
	});
	let stdout = "";
	let stderr = "";
	const waiters: Array<{ pattern: RegExp; ok: (m: RegExpExecArray) => void }> = [];
	const checkWaiters = () => {
		for (const w of [...waiters]) {
			const match = w.pattern.exec(stderr);
			if (match) {
				waiters.splice(waiters.indexOf(w), 1);
				w.ok(match);
			}
		}
	};
	child.stdout.on("data", (d: Buffer) => {
		stdout += d.toString();
	});
	child.stderr.on("data", (d: Buffer) => {
		stderr += d.toString();
		checkWaiters();
	});
	const result = new Promise<CliResult>((ok, fail) => {
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			fail(new Error(`coditect ${args.join(" ")} timed out\n${stdout}\n${stderr}`));
		}, opts.timeoutMs ?? 20_000);
		child.on("error", fail);
		child.on("close", (code) => {
			clearTimeout(timer);
			let json: Record<string, unknown> = {};
			try {
				json = JSON.parse(stdout) as Record<string, unknown>;
			} catch {
				json = {};
			}
			ok({ code, stdout, stderr, json });
		});
	});
	return {
		stderrMatch: (pattern) =>
			new Promise((ok, fail) => {
				waiters.push({ pattern, ok });
				checkWaiters();
				result.then(
					(r) => fail(new Error(`coditect ${args.join(" ")} ended before ${pattern}\n${show(r)}`)),
					fail,
				);
			}),
		writeLine: (line) => {
			child.stdin.write(`${line}\n`);
		},
		endInput: (text) => {
			child.stdin.end(text ?? "");
		},
		result,
	};
}

export async function runCli(args: string[], opts: RunOptions): Promise<CliResult> {
	const cli = spawnCli(args, opts);
	cli.endInput(opts.stdin);
	return cli.result;
}

/** Formats a result for assertion messages. */
export function show(r: CliResult): string {
	return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

export async function tempHome(): Promise<{ home: string; cleanup: () => Promise<void> }> {
	const home = await mkdtemp(join(tmpdir(), "coditect-cli-test-"));
	// Retries: a background refresher a test started may still be renaming a file into the home
	// (ENOTEMPTY), and the home must still go.
	return {
		home,
		cleanup: () => rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }),
	};
}

/**
 * Servers and homes a test makes, torn down after it (last made, first gone). Call once at a
 * test file's top level: it registers the afterEach.
 */
export function perTest(): {
	serverWith(features: ServerFeatures): Promise<LicenseServer>;
	home(): Promise<string>;
} {
	const cleanups: Array<() => Promise<void>> = [];
	afterEach(async () => {
		for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	});
	return {
		async serverWith(features) {
			const server = await LicenseServer.start(features);
			cleanups.push(() => server.down());
			return server;
		},
		async home() {
			const t = await tempHome();
			cleanups.push(t.cleanup);
			return t.home;
		},
	};
}

export async function readLicenseJson(home: string): Promise<Record<string, unknown>> {
	return JSON.parse(await readFile(join(home, "license.json"), "utf8")) as Record<string, unknown>;
}

export async function writeLicenseJson(home: string, value: unknown): Promise<void> {
	await writeFile(join(home, "license.json"), JSON.stringify(value));
}
