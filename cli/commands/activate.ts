import { defineCommand } from "citty";
import { parseLicenseKey } from "../../src/kernel/license-key";
import { accessToken } from "../account/session";
import { ApiFailure, failureToCliError } from "../api";
import { CliError, EXIT_UNLICENSED } from "../errors";
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

export default defineCommand({
	meta: {
		name: "activate",
		description: "Activate this machine with a license key, or as the logged-in user without one",
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
		...sharedArgs,
	},
	async run({ args }) {
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
