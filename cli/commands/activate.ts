import { defineCommand } from "citty";
import { parseLicenseKey } from "../../src/kernel/license-key";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { verifyLocal } from "../check";
import { CliError, EXIT_UNLICENSED } from "../errors";
import { type ActivateResponse, acceptServerToken, saveLicense } from "../online";
import { formatDuration, out, print, printJson, rows } from "../output";
import { accessToken } from "../session";
import { contextFrom, machineDescription, sharedArgs } from "./_shared";

function activationError(err: ApiFailure, apiUrl: string): CliError {
	if (err.code === "ACTIVATION_LIMIT_REACHED") {
		const max = typeof err.body.max_activations === "number" ? err.body.max_activations : "all";
		return new CliError(
			`All ${max} activations of this license are in use. Run \`coditect deactivate\` on a machine you no longer use (or free a seat in your account), then try again.`,
			err.code,
			EXIT_UNLICENSED,
			{ max_activations: err.body.max_activations, active: err.body.active },
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

export default defineCommand({
	meta: {
		name: "activate",
		description: "Activate this machine with a license key, or as the logged-in user without one",
	},
	args: {
		key: { type: "positional", required: false, description: "License key (CDT-…)" },
		...sharedArgs,
	},
	async run({ args }) {
		let key: string | null = null;
		if (args.key) {
			const parsed = parseLicenseKey(args.key);
			if (!parsed.ok) {
				throw new CliError(
					parsed.reason === "CHECKSUM"
						? "The license key has a typo (its check character does not match). Check it and try again."
						: "That is not a CODITECT license key; keys look like CDT-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX.",
					"INVALID_KEY",
				);
			}
			key = parsed.key;
		}
		const ctx = contextFrom(args);
		const { apiUrl } = ctx.config;
		let response: ActivateResponse;
		try {
			if (key !== null) {
				response = await apiRequest<ActivateResponse>(apiUrl, "POST", "/api/v1/licenses/activate", {
					json: { license_key: key, hardware_id: ctx.hardwareId, ...machineDescription() },
				});
			} else {
				const creds = await accessToken(ctx.paths, apiUrl);
				response = await apiRequest<ActivateResponse>(
					apiUrl,
					"POST",
					"/api/v1/licenses/activate-mine",
					{
						json: { hardware_id: ctx.hardwareId, ...machineDescription() },
						bearer: creds.access_token,
					},
				);
			}
		} catch (err) {
			if (err instanceof ApiFailure) throw activationError(err, apiUrl);
			throw err;
		}
		await acceptServerToken(ctx, response.token);
		saveLicense(ctx, {
			version: 1,
			api_url: apiUrl,
			source: key !== null ? "key" : "account",
			license_key: key,
			license_id: response.license.id,
			activation_id: response.activation.id,
			token: response.token,
			last_online_at: Math.floor(Date.now() / 1000),
		});
		const { check } = await verifyLocal({ ...ctx, nowMs: Date.now() });
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
				["offline for", formatDuration(check.grace_remaining_s)],
			]),
		);
	},
});
