import { resolve } from "node:path";
import { defineCommand } from "citty";
import { decodeLicenseTokenUnverified } from "../../src/kernel/token/claims";
import { accessToken } from "../account/session";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { apiUrlSetting } from "../config";
import { CliError } from "../errors";
import { removeFile } from "../home";
import { type CheckContext, licenseContext } from "../license/context";
import { readLicenseFile, type StoredLicense } from "../license/store";
import { out, print, printJson, warn } from "../output";
import { contextFrom, sharedArgs } from "./_shared";

/** Server codes that confirm this machine holds no seat there: the local file may go. */
const NOTHING_HELD: ReadonlySet<string> = new Set(["ACTIVATION_NOT_FOUND", "LICENSE_NOT_FOUND"]);

const FORCE_HINT =
	"The local license is kept; `coditect deactivate --force` deletes it without freeing the seat.";

/** How to free a seat this CLI could not free: what the server offers today. */
function howToFree(stored: StoredLicense): string {
	const owner = `as the license's owner, DELETE ${stored.api_url}/api/v1/licenses/${stored.license_id}/activations/${stored.activation_id ?? "<activation id>"} with your access token (GET /api/v1/licenses lists your seats)`;
	return stored.source === "key"
		? `Free it by running \`coditect activate KEY\` then \`coditect deactivate\` here once ${stored.api_url} is reachable, or ${owner}.`
		: `Free it ${owner}, or run \`coditect activate\` then \`coditect deactivate\` here once ${stored.api_url} is reachable.`;
}

async function freeSeat(
	stored: StoredLicense,
	ctx: ReturnType<typeof contextFrom>,
): Promise<"freed" | "none"> {
	const { apiUrl } = ctx.config;
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
		return "freed";
	} catch (err) {
		if (err instanceof ApiFailure && NOTHING_HELD.has(err.code)) return "none";
		const failure =
			err instanceof ApiFailure ? failureToCliError(err, apiUrl, "deactivation") : err;
		if (failure instanceof CliError) {
			throw new CliError(
				`${failure.message} ${FORCE_HINT}`,
				failure.code,
				failure.exitCode,
				failure.details,
			);
		}
		throw failure;
	}
}

const RECEIPT_OUT = "coditect-offline-release.json";

/**
 * `deactivate --offline`: no network. The receipt is written first, then license.json goes:
 * once the receipt exists the license is gone from this machine, which is what it certifies.
 */
async function deactivateOffline(
	ctx: CheckContext,
	stored: StoredLicense,
	args: { offline?: boolean; force?: boolean; out?: string | undefined; json?: boolean },
): Promise<void> {
	if (stored.source !== "offline") {
		throw new CliError(
			"This machine's license was activated online: run `coditect deactivate` without --offline.",
			"NOT_OFFLINE",
		);
	}
	if (!args.offline) {
		if (!args.force) {
			throw new CliError(
				"This machine's license is an offline (air-gapped) one: run `coditect deactivate --offline` to delete it and write the release receipt that frees its seat. `--force` deletes it without a receipt, and the seat stays held.",
				"OFFLINE_LICENSE",
			);
		}
		removeFile(ctx.paths.license);
		if (args.json) printJson({ deactivated: false, server_freed: false, local_deleted: true });
		else warn("Deleted the offline license without a receipt: its seat stays held on the server.");
		return;
	}
	const nonce = stored.token ? decodeLicenseTokenUnverified(stored.token)?.nonce : undefined;
	if (nonce === undefined) {
		throw new CliError(
			"The stored offline license is damaged (no request nonce), so no receipt can name it. Free the seat from your account, then run `coditect deactivate --force`.",
			"INVALID_TOKEN",
		);
	}
	const { writeReleaseReceipt } = await import("../license/offline");
	const receiptFile = resolve(args.out ?? RECEIPT_OUT);
	await writeReleaseReceipt(ctx, stored, nonce, receiptFile);
	removeFile(ctx.paths.license);
	if (args.json) {
		printJson({
			deactivated: true,
			server_freed: false,
			local_deleted: true,
			license_id: stored.license_id,
			activation_id: stored.activation_id,
			receipt_file: receiptFile,
		});
		return;
	}
	print(`${out().green("✓")} The offline license is deleted. Release receipt: ${receiptFile}`);
	print(
		"The seat is freed when the receipt is uploaded: `coditect admin offline-deactivate FILE` (or POST it to /api/v1/licenses/ID/offline-deactivations). It works once.",
	);
}

export default defineCommand({
	meta: {
		name: "deactivate",
		description:
			"Free this machine's activation on the server and delete the local license (--offline: air-gapped)",
	},
	args: {
		force: {
			type: "boolean",
			description: "Delete the local license even when the server cannot confirm the seat is free",
		},
		offline: {
			type: "boolean",
			description:
				"Air-gapped machine: delete the offline license and write a signed release receipt",
		},
		out: {
			type: "string",
			valueHint: "file",
			description: `With --offline: where to write the receipt (default ${RECEIPT_OUT})`,
		},
		...sharedArgs,
	},
	async run({ args }) {
		let ctx = contextFrom(args);
		const file = readLicenseFile(ctx.paths);
		if (file.kind === "missing") {
			throw new CliError(
				"This machine has no stored license, so there is nothing to deactivate.",
				"NOT_ACTIVATED",
			);
		}
		if (file.kind === "corrupt") {
			if (!args.force) {
				throw new CliError(
					`The stored license (${ctx.paths.license}) is unreadable, so this CLI cannot tell which seat to free. Free it from your account, then run \`coditect deactivate --force\` to delete the file.`,
					"INVALID_TOKEN",
				);
			}
			removeFile(ctx.paths.license);
			if (args.json) printJson({ deactivated: false, server_freed: false, local_deleted: true });
			else
				warn(
					"Deleted the unreadable local license. Its seat may still be held: free it from your account.",
				);
			return;
		}
		const stored = file.license;
		if (args.offline || stored.source === "offline") {
			await deactivateOffline(ctx, stored, args);
			return;
		}
		if (stored.api_url !== ctx.config.apiUrl) {
			// The license names its server; with none configured, that is the one to ask.
			if (ctx.config.sources.apiUrl === "default") {
				ctx = licenseContext({ apiUrl: stored.api_url });
			} else if (!args.force) {
				throw new CliError(
					`The stored license was issued by ${stored.api_url}, but this command would ask ${ctx.config.apiUrl} (from ${apiUrlSetting(ctx.config.sources.apiUrl)}). Run \`coditect deactivate --api-url ${stored.api_url}\`. ${FORCE_HINT}`,
					"FOREIGN_LICENSE",
				);
			}
		}
		let outcome: "freed" | "none" | "unconfirmed";
		if (stored.api_url !== ctx.config.apiUrl) {
			outcome = "unconfirmed";
		} else {
			try {
				outcome = await freeSeat(stored, ctx);
			} catch (err) {
				if (!args.force || !(err instanceof CliError)) throw err;
				warn(`Could not free the seat: ${err.message.replace(` ${FORCE_HINT}`, "")}`);
				outcome = "unconfirmed";
			}
		}
		removeFile(ctx.paths.license);
		if (args.json) {
			printJson({
				deactivated: outcome !== "unconfirmed",
				server_freed: outcome === "freed",
				local_deleted: true,
				license_id: stored.license_id,
				activation_id: stored.activation_id,
				...(outcome === "unconfirmed"
					? { seat_may_be_held: true, free_with: howToFree(stored) }
					: {}),
			});
			return;
		}
		const c = out();
		if (outcome === "freed") {
			print(`${c.green("✓")} Deactivated: the seat is free and the local license is deleted.`);
		} else if (outcome === "none") {
			print(
				`${c.green("✓")} Local license deleted (the server had no activation for this machine).`,
			);
		} else {
			print(`Local license deleted. The seat may still be held on ${stored.api_url}.`);
			warn(howToFree(stored));
		}
	},
});
