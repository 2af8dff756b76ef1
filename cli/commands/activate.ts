import { resolve } from "node:path";
import { defineCommand } from "citty";
import { parseLicenseKey } from "../../src/kernel/license-key";
import { accessToken } from "../account/session";
import { ApiFailure, failureToCliError } from "../api";
import { CliError, EXIT_UNLICENSED, EXIT_USAGE } from "../errors";
import { activateMachine } from "../license/activate";
import type { CheckContext } from "../license/context";
import { licensedVerdict } from "../license/verdict";
import { formatDuration, out, print, printErr, printJson, rows } from "../output";
import { contextFrom, sharedArgs } from "./_shared";

function activationError(err: ApiFailure, apiUrl: string, withKey: boolean): CliError {
	if (err.code === "ACTIVATION_LIMIT_REACHED") {
		const max = typeof err.body.max_activations === "number" ? err.body.max_activations : "all";
		return new CliError(
			`All ${max} activations of this license are in use. Run \`coditect deactivate\` on a machine you no longer use (or free a seat in your account), then try again.`,
			err.code,
			EXIT_UNLICENSED,
			{ max_activations: err.body.max_activations, active: err.body.active },
		);
	}
	if (err.code === "LICENSE_NOT_FOUND" && !withKey) {
		return new CliError(
			"Your account has no license yet. Buy one with `coditect upgrade`, or run `coditect activate KEY` with a license key you were given.",
			err.code,
			EXIT_UNLICENSED,
		);
	}
	if (err.code === "LICENSE_NOT_FOUND") {
		return new CliError(
			"No license has this key. Check it (it is shown once, when the license is created) or contact support.",
			err.code,
			EXIT_UNLICENSED,
		);
	}
	return failureToCliError(err, apiUrl, "license activation");
}

function parseKey(input: string): string {
	const parsed = parseLicenseKey(input.trim());
	if (!parsed.ok) {
		throw new CliError(
			parsed.reason === "CHECKSUM"
				? "The license key has a typo (its check character does not match). Check it and try again."
				: "That is not a CODITECT license key; keys look like CDT-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX.",
			"INVALID_KEY",
		);
	}
	return parsed.key;
}

/** Why a typed key is not one (asked again in place), or undefined. */
function keyProblem(input: string): string | undefined {
	const parsed = parseLicenseKey(input.trim());
	if (parsed.ok) return undefined;
	return parsed.reason === "CHECKSUM"
		? "That key has a typo (its check character does not match)"
		: "Keys look like CDT-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX";
}

/**
 * The key from standard input (`--key-stdin`, or `-` for the key), or typed at a hidden
 * prompt when stdin is a terminal: either way it stays out of shell history and `ps`.
 */
async function readKey(): Promise<string> {
	const { askHidden } = await import("../prompt");
	return parseKey(
		await askHidden("License key: ", "license key", { validate: keyProblem, code: "INVALID_KEY" }),
	);
}

/**
 * The owner's session for a keyless activation. Without one, a terminal user is asked for
 * the key instead; otherwise both ways forward are named.
 */
async function ownerAuth(ctx: CheckContext): Promise<{ bearer: string } | { licenseKey: string }> {
	try {
		return { bearer: (await accessToken(ctx.paths, ctx.config.apiUrl)).access_token };
	} catch (err) {
		if (err instanceof CliError && err.code === "NOT_LOGGED_IN") {
			if (process.stdin.isTTY) {
				printErr(
					"You are not logged in; activate with a license key instead (or Ctrl-C, then `coditect login`).",
				);
				return { licenseKey: await readKey() };
			}
			throw new CliError(
				"No license key given and you are not logged in. Run `coditect activate KEY` with your license key, or `coditect login` first to activate with your account's license.",
				err.code,
				err.exitCode,
			);
		}
		throw err;
	}
}

const REQUEST_OUT = "coditect-offline-request.json";

/** `--offline-request` and `--offline-response`: the air-gapped steps, with no network at all. */
async function runOffline(args: {
	key?: string | undefined;
	"key-stdin"?: boolean | undefined;
	"offline-request"?: boolean | undefined;
	license?: string | undefined;
	out?: string | undefined;
	"offline-response"?: string | undefined;
	json?: boolean | undefined;
	"api-url"?: string | undefined;
}): Promise<void> {
	if (args.key !== undefined || args["key-stdin"]) {
		throw new CliError(
			"An offline activation takes no license key: the request names the license by id (--license lic_…).",
			"USAGE",
			EXIT_USAGE,
		);
	}
	if (args["offline-request"] && args["offline-response"] !== undefined) {
		throw new CliError(
			"Give either --offline-request or --offline-response, not both.",
			"USAGE",
			EXIT_USAGE,
		);
	}
	const ctx = contextFrom(args);
	const { installOfflineLicense, writeOfflineRequest } = await import("../license/offline");
	if (args["offline-request"]) {
		const licenseId = args.license?.trim() ?? "";
		if (!/^lic_[A-Za-z0-9_-]{1,60}$/.test(licenseId)) {
			throw new CliError(
				"--offline-request needs the license id: --license lic_… (your account's license list or the operator shows it).",
				"USAGE",
				EXIT_USAGE,
			);
		}
		const out = resolve(args.out ?? REQUEST_OUT);
		const request = writeOfflineRequest(ctx, licenseId, out);
		if (args.json) {
			printJson({ request_file: out, license_id: licenseId, nonce: request.nonce });
			return;
		}
		print(`Wrote the offline activation request to ${out}.`);
		print(
			"Take it to a machine with access to the license server, and have the license's owner, an org admin or the operator run `coditect admin offline-activate FILE` (or POST it to /api/v1/licenses/ID/offline-activations). Then install the answer here with `coditect activate --offline-response FILE`.",
		);
		return;
	}
	const path = resolve(String(args["offline-response"]));
	const { claims, stored } = await installOfflineLicense(ctx, path);
	const { check } = licensedVerdict(claims, stored, Date.now());
	if (args.json) {
		printJson({ activated: true, activation_id: stored.activation_id, ...check });
		return;
	}
	const c = out();
	print(`${c.green("✓")} This machine is activated offline (${c.bold(claims.lic.plan)}).`);
	print(
		rows([
			["license", stored.license_id],
			["status", claims.lic.status],
			["offline license until", check.token_expires_at ?? "?"],
		]),
	);
}

export default defineCommand({
	meta: {
		name: "activate",
		description:
			"Activate this machine with a license key, as the logged-in user without one, or offline (air-gapped)",
	},
	args: {
		key: {
			type: "positional",
			required: false,
			description: "License key (CDT-…); - reads it from standard input",
		},
		"key-stdin": {
			type: "boolean",
			description:
				"Read the license key from standard input (or a hidden prompt), not the command line",
		},
		"offline-request": {
			type: "boolean",
			description:
				"Air-gapped machine: write a request file for --license (an administrator uploads it)",
		},
		license: {
			type: "string",
			valueHint: "lic_…",
			description: "With --offline-request: the license id to request a seat on",
		},
		out: {
			type: "string",
			valueHint: "file",
			description: `With --offline-request: where to write the request (default ${REQUEST_OUT})`,
		},
		"offline-response": {
			type: "string",
			valueHint: "file",
			description:
				"Air-gapped machine: install the license file the upload of the request returned",
		},
		...sharedArgs,
	},
	async run({ args }) {
		if (args["offline-request"] || args["offline-response"] !== undefined) {
			await runOffline(args);
			return;
		}
		if (args.license !== undefined || args.out !== undefined) {
			throw new CliError(
				"--license and --out go with --offline-request (an air-gapped machine's request file).",
				"USAGE",
				EXIT_USAGE,
			);
		}
		let key: string | null = null;
		if (args["key-stdin"] || args.key === "-") key = await readKey();
		else if (args.key) key = parseKey(args.key);
		const ctx = contextFrom(args);
		const { apiUrl } = ctx.config;
		let withKey = key !== null;
		let activated: Awaited<ReturnType<typeof activateMachine>>;
		try {
			const auth = key !== null ? { licenseKey: key } : await ownerAuth(ctx);
			withKey = "licenseKey" in auth;
			activated = await activateMachine(ctx, auth);
		} catch (err) {
			if (err instanceof ApiFailure) throw activationError(err, apiUrl, withKey);
			throw err;
		}
		const { response } = activated;
		const { check } = licensedVerdict(activated.claims, activated.stored, Date.now());
		if (args.json) {
			printJson({ activated: true, activation_id: response.activation.id, ...check });
			return;
		}
		const c = out();
		print(`${c.green("✓")} This machine is activated (${c.bold(response.license.plan)}).`);
		print(
			rows([
				["license", response.license.id],
				["status", response.license.status],
				["expires", response.license.expires_at ?? "no end date (renews)"],
				["offline grace left", formatDuration(check.grace_remaining_s)],
			]),
		);
	},
});
