/**
 * `coditect admin`: uploads for air-gapped machines (docs/offline-activation.md), run on a
 * machine that reaches the server. The credential is the operator's CODITECT_ADMIN_TOKEN when
 * set (any license, /api/v1/admin/…), otherwise the logged-in session (the license's owner or
 * an owner/admin of its org, /api/v1/licenses/…): one rule, no flag to pick.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { asUser } from "../account/session";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError, EXIT_UNLICENSED, EXIT_USAGE } from "../errors";
import { homePaths, isObject, writeJsonFile } from "../home";
import { out, print, printJson, rows } from "../output";
import { configFrom, type SharedArgs, sharedArgs } from "./_shared";

const LICENSE_OUT = "coditect-offline-license.json";

function readUpload(path: string, format: string, what: string): Record<string, unknown> {
	let value: unknown;
	try {
		value = JSON.parse(readFileSync(path, "utf8"));
	} catch (err) {
		const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
		throw new CliError(
			missing ? `There is no file ${path}.` : `${path} is not a ${what} (not JSON).`,
			missing ? "FILE_NOT_FOUND" : "INVALID_OFFLINE_FILE",
			EXIT_USAGE,
		);
	}
	if (!isObject(value) || value.format !== format || typeof value.license_id !== "string") {
		throw new CliError(
			`${path} is not a ${what} (format ${format}).`,
			"INVALID_OFFLINE_FILE",
			EXIT_USAGE,
		);
	}
	return value;
}

/** POSTs `body` to `/…/licenses/ID/<what>` as the operator or the logged-in user. */
async function upload<T>(args: SharedArgs, licenseId: string, what: string, body: unknown) {
	const config = configFrom(args);
	const id = encodeURIComponent(licenseId);
	const adminToken = process.env.CODITECT_ADMIN_TOKEN;
	if (!adminToken) {
		return asUser<T>(
			homePaths(config.home),
			config.apiUrl,
			"offline activation",
			"POST",
			`/api/v1/licenses/${id}/${what}`,
			body,
		);
	}
	try {
		return await apiRequest<T>(config.apiUrl, "POST", `/api/v1/admin/licenses/${id}/${what}`, {
			json: body,
			bearer: adminToken,
		});
	} catch (err) {
		if (err instanceof ApiFailure && err.status === 401) {
			throw new CliError(
				"The server refused CODITECT_ADMIN_TOKEN. Check it, or unset it to upload as the logged-in user.",
				err.code,
				EXIT_USAGE,
			);
		}
		if (err instanceof ApiFailure)
			throw failureToCliError(err, config.apiUrl, "offline activation");
		throw err;
	}
}

interface LicenseFile {
	created: boolean;
	activation: { id: string; hardware_id: string; hostname: string | null };
	license: { id: string; plan: string };
	token: string;
}

const offlineActivate = defineCommand({
	meta: {
		name: "offline-activate",
		description: "Upload an air-gapped machine's request file; write the license file it gets",
	},
	args: {
		file: { type: "positional", required: true, description: "The request file" },
		out: {
			type: "string",
			valueHint: "file",
			description: `Where to write the license file (default ${LICENSE_OUT})`,
		},
		...sharedArgs,
	},
	async run({ args }) {
		const request = readUpload(
			resolve(args.file),
			"coditect-offline-request",
			"offline request file",
		);
		let file: LicenseFile;
		try {
			file = await upload<LicenseFile>(
				args,
				String(request.license_id),
				"offline-activations",
				request,
			);
		} catch (err) {
			if (err instanceof CliError && err.code === "ACTIVATION_LIMIT_REACHED") {
				throw new CliError(
					"All activations of this license are in use. Free one (`coditect machines free ID`, or a release receipt with `coditect admin offline-deactivate`), then upload again.",
					err.code,
					EXIT_UNLICENSED,
				);
			}
			throw err;
		}
		const target = resolve(args.out ?? LICENSE_OUT);
		writeJsonFile(target, file);
		if (args.json) {
			printJson({
				license_file: target,
				created: file.created,
				activation_id: file.activation.id,
				license_id: file.license.id,
			});
			return;
		}
		const c = out();
		print(
			`${c.green("✓")} ${file.created ? "Activated" : "Already active, renewed"}: ${file.activation.hostname ?? file.activation.hardware_id} on ${file.license.id} (${file.license.plan}).`,
		);
		print(rows([["license file", target]]));
		print("Take it to the machine and run `coditect activate --offline-response FILE` there.");
	},
});

const offlineDeactivate = defineCommand({
	meta: {
		name: "offline-deactivate",
		description: "Upload an air-gapped machine's release receipt: frees its seat (works once)",
	},
	args: {
		file: { type: "positional", required: true, description: "The release receipt file" },
		...sharedArgs,
	},
	async run({ args }) {
		const receipt = readUpload(
			resolve(args.file),
			"coditect-offline-release",
			"release receipt file",
		);
		const done = await upload<{ activation_id: string }>(
			args,
			String(receipt.license_id),
			"offline-deactivations",
			receipt,
		);
		if (args.json) {
			printJson({ freed: done.activation_id });
			return;
		}
		print(`${out().green("✓")} Freed ${done.activation_id}: the seat is free.`);
	},
});

export default defineCommand({
	meta: {
		name: "admin",
		description: "Uploads for air-gapped machines (as the operator or the logged-in user)",
	},
	subCommands: { "offline-activate": offlineActivate, "offline-deactivate": offlineDeactivate },
});
