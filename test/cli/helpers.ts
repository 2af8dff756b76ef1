/**
 * The CLI as a real process (the built bundle) with a temporary home, against the real
 * Node server on the run's database. Offline = the server stopped; time travel = the
 * process run under faketime (libfaketime), never a switch inside the product.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { inject } from "vitest";
import { type RunningServer, startServer } from "../../src/server";

export const CLI = resolve(import.meta.dirname, "../../cli/dist/coditect.cjs");

export interface CliResult {
	code: number | null;
	stdout: string;
	stderr: string;
	/** Parsed stdout (commands run with --json). */
	json: Record<string, unknown>;
}

async function freePort(): Promise<number> {
	return new Promise((ok, fail) => {
		const probe = createServer();
		probe.once("error", fail);
		probe.listen(0, "127.0.0.1", () => {
			const address = probe.address();
			const port = typeof address === "object" && address ? address.port : 0;
			probe.close(() => ok(port));
		});
	});
}

/** A license server on a fixed port, so it can be stopped (offline) and started again. */
export class LicenseServer {
	readonly port: number;
	readonly url: string;
	private running: RunningServer | null = null;

	private constructor(port: number) {
		this.port = port;
		this.url = `http://127.0.0.1:${port}`;
	}

	static async start(): Promise<LicenseServer> {
		const server = new LicenseServer(await freePort());
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
}

export async function runCli(args: string[], opts: RunOptions): Promise<CliResult> {
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
	return new Promise((ok, fail) => {
		const child = spawn(file, argv, { env, stdio: ["pipe", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d: Buffer) => {
			stdout += d.toString();
		});
		child.stderr.on("data", (d: Buffer) => {
			stderr += d.toString();
		});
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
		child.stdin.end(opts.stdin ?? "");
	});
}

/** Formats a result for assertion messages. */
export function show(r: CliResult): string {
	return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

export async function tempHome(): Promise<{ home: string; cleanup: () => Promise<void> }> {
	const home = await mkdtemp(join(tmpdir(), "coditect-cli-test-"));
	return { home, cleanup: () => rm(home, { recursive: true, force: true }) };
}

export async function readLicenseJson(home: string): Promise<Record<string, unknown>> {
	return JSON.parse(await readFile(join(home, "license.json"), "utf8")) as Record<string, unknown>;
}

export async function writeLicenseJson(home: string, value: unknown): Promise<void> {
	await writeFile(join(home, "license.json"), JSON.stringify(value));
}
