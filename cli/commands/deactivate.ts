import { defineCommand } from "citty";
import { accessToken } from "../account/session";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError } from "../errors";
import { removeFile } from "../home";
import { readLicenseFile } from "../license/store";
import { out, print, printJson, warn } from "../output";
import { contextFrom, sharedArgs } from "./_shared";

export default defineCommand({
	meta: {
		name: "deactivate",
		description: "Free this machine's activation on the server and delete the local license",
	},
	args: {
		force: {
			type: "boolean",
			description: "Delete the local license even when the server cannot be reached",
		},
		...sharedArgs,
	},
	async run({ args }) {
		const ctx = contextFrom(args);
		const { apiUrl } = ctx.config;
		const file = readLicenseFile(ctx.paths);
		if (file.kind !== "ok" || file.license.api_url !== apiUrl) {
			if (file.kind !== "missing") removeFile(ctx.paths.license);
			throw new CliError(
				file.kind === "missing"
					? "This machine has no stored license, so there is nothing to deactivate."
					: "The stored license is unreadable or belongs to another server; it was deleted. Free the seat from your account if needed.",
				"NOT_ACTIVATED",
			);
		}
		const stored = file.license;
		let serverFreed = true;
		try {
			if (stored.source === "key" && stored.license_key) {
				await apiRequest(apiUrl, "POST", "/api/v1/licenses/deactivate", {
					json: { license_key: stored.license_key, hardware_id: ctx.hardwareId },
				});
			} else {
				const creds = await accessToken(ctx.paths, apiUrl);
				await apiRequest(
					apiUrl,
					"DELETE",
					`/api/v1/licenses/${encodeURIComponent(stored.license_id)}/activations/${encodeURIComponent(stored.activation_id ?? "")}`,
					{ bearer: creds.access_token },
				);
			}
		} catch (err) {
			if (
				err instanceof ApiFailure &&
				(err.code === "ACTIVATION_NOT_FOUND" || err.code === "NOT_FOUND")
			) {
				serverFreed = false;
			} else if (args.force) {
				serverFreed = false;
				warn(
					`Could not free the seat on the server (${err instanceof Error ? err.message : String(err)}). Free it from your account.`,
				);
			} else if (err instanceof ApiFailure) {
				throw failureToCliError(err, apiUrl, "deactivation");
			} else {
				throw err;
			}
		}
		removeFile(ctx.paths.license);
		if (args.json) {
			printJson({ deactivated: true, server_freed: serverFreed, license_id: stored.license_id });
			return;
		}
		print(
			serverFreed
				? `${out().green("✓")} Deactivated: the seat is free and the local license is deleted.`
				: `${out().green("✓")} Local license deleted (the server had no activation for this machine).`,
		);
	},
});
