/**
 * `coditect ci run|lease|release`: a CI job holds one of its org's runner slots for as long as
 * it runs. The credential is `CODITECT_API_KEY` (an org API key) or, without one, the job's
 * own OIDC ID token (GitHub Actions' token endpoint, or a GitLab `id_tokens` variable), which
 * an org admin's trust rule accepts. The lease token reaches the licensed tool as
 * `CODITECT_CI_TOKEN` (and, kept fresh by the heartbeats, in the file `CODITECT_CI_TOKEN_FILE`).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineCommand } from "citty";
import { decodeBase64Url, decodeUtf8 } from "../../src/kernel/base64url";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError, EXIT_NETWORK, EXIT_UNLICENSED, EXIT_USAGE } from "../errors";
import { isObject, writeFileAtomic } from "../home";
import { cacheJwks, trustsFetchedKeys } from "../license/keys";
import { print, printErr, printJson, rows } from "../output";
import { allowSpinner } from "../spinner";
import { configFrom, type SharedArgs, sharedArgs } from "./_shared";

interface Lease {
	lease_id: string;
	org_id: string;
	job_id: string;
	token: string;
	expires_at: string;
}

type Env = Record<string, string | undefined>;

const leaseArgs = {
	job: {
		type: "string",
		valueHint: "id",
		description:
			"Job id, unique per job run (default: CODITECT_CI_JOB_ID, or derived from GitHub Actions / GitLab variables)",
	},
	runner: { type: "string", valueHint: "name", description: "Runner name shown to org admins" },
	ttl: {
		type: "string",
		valueHint: "seconds",
		description: "Lease length, 60–3600 (default 900); `ci run` renews it while the command runs",
	},
	org: {
		type: "string",
		valueHint: "org_id",
		description: "Only when the job's ID token is trusted by several organisations",
	},
	"id-token-env": {
		type: "string",
		valueHint: "NAME",
		description:
			"Environment variable holding the job's OIDC ID token (GitLab `id_tokens`; default CODITECT_ID_TOKEN, then CI_JOB_JWT_V2)",
	},
	wait: {
		type: "string",
		valueHint: "seconds",
		description: "When every slot is taken, wait up to this long for one (default 0: fail at once)",
	},
} as const;

interface LeaseArgs extends SharedArgs {
	job?: string | undefined;
	runner?: string | undefined;
	ttl?: string | undefined;
	org?: string | undefined;
	"id-token-env"?: string | undefined;
	wait?: string | undefined;
}

function seconds(
	value: string | undefined,
	name: string,
	min: number,
	max: number,
): number | undefined {
	if (value === undefined) return undefined;
	const n = Number(value);
	if (!Number.isInteger(n) || n < min || n > max) {
		throw new CliError(
			`--${name} must be a whole number of seconds from ${min} to ${max}.`,
			"USAGE",
		);
	}
	return n;
}

/** The job's id: given, or what the CI system says identifies this run of this job. */
export function jobIdFrom(given: string | undefined, env: Env): string {
	const id =
		given ??
		env.CODITECT_CI_JOB_ID ??
		(env.GITHUB_RUN_ID
			? [env.GITHUB_REPOSITORY, env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT ?? "1", env.GITHUB_JOB]
					.filter(Boolean)
					.join("/")
			: env.CI_JOB_ID
				? [env.CI_PROJECT_PATH, env.CI_JOB_ID].filter(Boolean).join("/")
				: undefined);
	if (!id) {
		throw new CliError(
			"No job id: pass --job (or set CODITECT_CI_JOB_ID); on GitHub Actions and GitLab it is derived from the run.",
			"USAGE",
		);
	}
	return id.slice(0, 255);
}

/**
 * The credential: an org API key if there is one, else the job's OIDC ID token. GitHub hands
 * one out on request (needs `permissions: id-token: write`) for the audience we name: the
 * license server's URL, which is what trust rules expect by default.
 */
export async function ciCredential(apiUrl: string, env: Env, idTokenEnv?: string): Promise<string> {
	if (env.CODITECT_API_KEY) return env.CODITECT_API_KEY;
	if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
		const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL);
		url.searchParams.set("audience", apiUrl);
		let value: unknown;
		try {
			const res = await fetch(url, {
				headers: { authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
				signal: AbortSignal.timeout(15_000),
			});
			if (!res.ok) throw new Error(`HTTP ${res.status}`);
			value = ((await res.json()) as { value?: unknown }).value;
		} catch (err) {
			throw new CliError(
				`Could not get this job's OIDC ID token from GitHub Actions (${err instanceof Error ? err.message : err}). Does the workflow have \`permissions: id-token: write\`?`,
				"ID_TOKEN_UNAVAILABLE",
				EXIT_NETWORK,
			);
		}
		if (typeof value === "string" && value) return value;
	}
	for (const name of [idTokenEnv, "CODITECT_ID_TOKEN", "CI_JOB_JWT_V2"]) {
		const value = name ? env[name] : undefined;
		if (value) return value;
	}
	throw new CliError(
		idTokenEnv
			? `The environment variable ${idTokenEnv} is empty or unset.`
			: "No CI credential: set CODITECT_API_KEY (an org API key), or run in GitHub Actions with `permissions: id-token: write`, or name a GitLab id_tokens variable with --id-token-env.",
		"NO_CI_CREDENTIAL",
		EXIT_UNLICENSED,
	);
}

function leaseFailure(err: unknown, apiUrl: string): never {
	if (!(err instanceof ApiFailure)) throw err;
	if (err.code === "CI_CONCURRENCY_LIMIT") {
		throw new CliError(
			`All ${String(err.body.limit)} CI runner slot(s) of the organisation's plan are in use${err.body.next_free_at ? `; the next frees by ${String(err.body.next_free_at)}` : ""}. Retry later, pass --wait, or ask for more runners.`,
			err.code,
			EXIT_UNLICENSED,
			{ limit: err.body.limit, active: err.body.active, next_free_at: err.body.next_free_at },
		);
	}
	if (err.status === 401) {
		throw new CliError(
			"The license server did not accept this job's credential (revoked API key, or an ID token no trust rule of the organisation accepts).",
			"UNAUTHORIZED",
			EXIT_UNLICENSED,
		);
	}
	throw failureToCliError(err, apiUrl, "CI leases");
}

/**
 * A self-hosted server's keys are not bundled: cache its JWKS (as activate does) so the job's
 * own `license status` / checkLicense() can verify the lease offline.
 */
async function cacheServerKeys(home: string, apiUrl: string): Promise<void> {
	if (!trustsFetchedKeys(apiUrl)) return;
	try {
		const jwks = await apiRequest<unknown>(apiUrl, "GET", "/.well-known/jwks.json");
		const keys = isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys : [];
		if (keys.length > 0) cacheJwks(home, apiUrl, keys);
	} catch {
		// The lease still works for the command; only the offline check of it would not.
	}
}

async function acquire(args: LeaseArgs, env: Env): Promise<{ apiUrl: string; lease: Lease }> {
	const { apiUrl, home } = configFrom(args);
	const ttl = seconds(args.ttl, "ttl", 60, 3600);
	const waitS = seconds(args.wait, "wait", 0, 86_400) ?? 0;
	const body = {
		job_id: jobIdFrom(args.job, env),
		...(args.runner ? { runner: args.runner.slice(0, 255) } : {}),
		...(ttl ? { ttl_s: ttl } : {}),
		...(args.org ? { org_id: args.org } : {}),
	};
	const deadline = Date.now() + waitS * 1000;
	for (;;) {
		// A fresh credential per attempt: GitHub's ID tokens are short-lived.
		const bearer = await ciCredential(apiUrl, env, args["id-token-env"]);
		try {
			const lease = await apiRequest<Lease>(apiUrl, "POST", "/api/v1/ci/leases", {
				json: body,
				bearer,
			});
			await cacheServerKeys(home, apiUrl);
			return { apiUrl, lease };
		} catch (err) {
			const full = err instanceof ApiFailure && err.code === "CI_CONCURRENCY_LIMIT";
			if (!full || Date.now() >= deadline) leaseFailure(err, apiUrl);
			const next = Date.parse(String(err.body.next_free_at ?? ""));
			const pause = Math.min(
				Math.max((Number.isNaN(next) ? 5000 : next - Date.now()) + 250, 1000),
				15_000,
			);
			await new Promise((r) =>
				setTimeout(r, Math.min(pause, Math.max(deadline - Date.now(), 0) + 1)),
			);
		}
	}
}

/** The lease id inside a lease token (no verification: the server decides). */
function leaseIdOf(token: string): string | null {
	try {
		const claims = JSON.parse(decodeUtf8(decodeBase64Url(token.split(".")[1] ?? ""))) as {
			ci?: { lease?: unknown };
		};
		return typeof claims.ci?.lease === "string" ? claims.ci.lease : null;
	} catch {
		return null;
	}
}

async function release(apiUrl: string, leaseId: string, bearer: string): Promise<void> {
	await apiRequest(apiUrl, "DELETE", `/api/v1/ci/leases/${encodeURIComponent(leaseId)}`, {
		bearer,
		timeoutMs: 10_000,
	});
}

const run = defineCommand({
	meta: {
		name: "run",
		description:
			"Lease a CI runner slot, run a command with it (CODITECT_CI_TOKEN), heartbeat, release on exit; exits with the command's code",
	},
	args: { ...leaseArgs, ...sharedArgs },
	async run({ args, rawArgs }) {
		const dash = rawArgs.indexOf("--");
		const command = dash >= 0 ? rawArgs.slice(dash + 1) : [];
		if (command.length === 0 || !command[0]) {
			throw new CliError("Usage: coditect ci run [options] -- <command> [args…]", "USAGE");
		}
		const env = process.env as Env;
		const { apiUrl, lease } = await acquire(args, env);
		let token = lease.token;
		const dir = mkdtempSync(join(tmpdir(), "coditect-ci-"));
		const tokenFile = join(dir, "token");
		writeFileAtomic(tokenFile, token, { durable: false });
		printErr(`coditect: leased CI slot ${lease.lease_id} for job ${lease.job_id}`);
		// The command owns the terminal now: heartbeats must not draw over its output.
		allowSpinner(false);

		const child = spawn(command[0], command.slice(1), {
			stdio: "inherit",
			env: {
				...process.env,
				CODITECT_CI_TOKEN: token,
				CODITECT_CI_TOKEN_FILE: tokenFile,
				CODITECT_CI_LEASE_ID: lease.lease_id,
			},
		});
		// Renew at a third of the lease's remaining life, so two missed beats still leave time.
		const beatEveryMs = Math.max(
			Math.floor((Date.parse(lease.expires_at) - Date.now()) / 3),
			5_000,
		);
		const ttl = seconds(args.ttl, "ttl", 60, 3600);
		const timer = setInterval(() => {
			apiRequest<Lease>(apiUrl, "POST", `/api/v1/ci/leases/${lease.lease_id}/heartbeat`, {
				json: ttl ? { ttl_s: ttl } : {},
				bearer: token,
				timeoutMs: 10_000,
			}).then(
				(renewed) => {
					token = renewed.token;
					writeFileAtomic(tokenFile, token, { durable: false });
				},
				(err: unknown) => {
					printErr(
						`coditect: lease heartbeat failed (${err instanceof Error ? err.message : err}); retrying`,
					);
				},
			);
		}, beatEveryMs);

		// Signals go to the child; we release once it has exited, whatever ended it.
		const forward = (signal: NodeJS.Signals) => () => {
			child.kill(signal);
		};
		const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map(
			(s) => [s, forward(s)] as const,
		);
		for (const [s, h] of handlers) process.on(s, h);
		const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => {
			child.on("error", (err) => {
				printErr(`coditect: could not start ${command[0]}: ${err.message}`);
				ok({ code: 127, signal: null });
			});
			child.on("exit", (code, signal) => ok({ code, signal }));
		});
		clearInterval(timer);
		for (const [s, h] of handlers) process.off(s, h);
		try {
			await release(apiUrl, lease.lease_id, token);
			printErr(`coditect: released CI slot ${lease.lease_id}`);
		} catch (err) {
			// The slot frees itself when the lease runs out; the command's result stands.
			printErr(
				`coditect: could not release the lease (${err instanceof Error ? err.message : err}); it frees itself by ${lease.expires_at}`,
			);
		}
		rmSync(dir, { recursive: true, force: true });
		const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
		const code = exit.signal ? 128 + (SIGNALS[exit.signal] ?? 1) : (exit.code ?? 1);
		// The command's own exit code, not one of the CLI's 0–3: CI judges the step by it.
		process.exit(code);
	},
});

const lease = defineCommand({
	meta: {
		name: "lease",
		description:
			"Lease a CI runner slot for this job and print its token (for pipelines with separate steps)",
	},
	args: {
		...leaseArgs,
		"token-file": {
			type: "string",
			valueHint: "path",
			description: "Write the lease token to this file (mode 0600) instead of printing it",
		},
		...sharedArgs,
	},
	async run({ args }) {
		const { lease } = await acquire(args, process.env as Env);
		const file = args["token-file"];
		if (file) writeFileAtomic(file, lease.token, { durable: false });
		if (args.json) {
			printJson(file ? { ...lease, token: undefined, token_file: file } : lease);
			return;
		}
		if (file) {
			print(
				rows([
					["lease", lease.lease_id],
					["job", lease.job_id],
					["expires", lease.expires_at],
					["token in", file],
				]),
			);
			return;
		}
		print(lease.token);
	},
});

const releaseCommand = defineCommand({
	meta: { name: "release", description: "Release a CI lease (by id, or the one in --token-file)" },
	args: {
		lease: { type: "positional", required: false, description: "Lease id (cil_…)" },
		"token-file": {
			type: "string",
			valueHint: "path",
			description: "The file `coditect ci lease --token-file` wrote; its token is the credential",
		},
		"id-token-env": leaseArgs["id-token-env"],
		...sharedArgs,
	},
	async run({ args }) {
		const { apiUrl } = configFrom(args);
		let token: string | null = null;
		if (args["token-file"]) {
			try {
				token = readFileSync(args["token-file"], "utf8").trim();
			} catch {
				throw new CliError(`Cannot read the token file ${args["token-file"]}.`, "USAGE");
			}
		}
		const leaseId = args.lease ?? (token ? leaseIdOf(token) : null);
		if (!leaseId)
			throw new CliError(
				"Name the lease: coditect ci release <lease_id> or --token-file.",
				"USAGE",
			);
		const bearer = token ?? (await ciCredential(apiUrl, process.env as Env, args["id-token-env"]));
		try {
			await release(apiUrl, leaseId, bearer);
		} catch (err) {
			if (err instanceof ApiFailure && err.code === "NOT_FOUND") {
				throw new CliError(`No lease ${leaseId} for this credential.`, "NOT_FOUND", EXIT_USAGE);
			}
			leaseFailure(err, apiUrl);
		}
		if (args.json) printJson({ released: true, lease_id: leaseId });
		else print(`Released ${leaseId}.`);
	},
});

export default defineCommand({
	meta: {
		name: "ci",
		description: "License CI jobs with a runner-slot lease: run, lease, release",
	},
	subCommands: { run, lease, release: releaseCommand },
});
