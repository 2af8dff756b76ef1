import { existsSync } from "node:fs";
import { defineCommand } from "citty";
import { loadCredentials } from "../account/credentials";
import { resolveHardwareId } from "../fingerprint";
import { jwksCacheFile } from "../license/keys";
import { readLicenseFile } from "../license/store";
import { print, printJson, rows, warn } from "../output";
import { VERSION } from "../version";
import { contextFrom, sharedArgs } from "./_shared";

export default defineCommand({
	meta: {
		name: "info",
		description: "Version, API URL, configuration sources, hardware id, files",
	},
	args: { ...sharedArgs },
	async run({ args }) {
		const ctx = contextFrom(args);
		const { config, paths } = ctx;
		const hw = resolveHardwareId(config);
		const license = readLicenseFile(paths);
		const creds = loadCredentials(paths, config.apiUrl);
		const info = {
			version: VERSION,
			node: process.version,
			platform: `${process.platform}-${process.arch}`,
			api_url: config.apiUrl,
			hardware_id: hw.id,
			sources: {
				api_url: config.sources.apiUrl,
				home: config.sources.home,
				hardware_id: hw.source,
			},
			home: paths.home,
			config_file: { path: config.configFile, exists: existsSync(config.configFile) },
			license_file: { path: paths.license, state: license.kind },
			credentials_file: { path: paths.credentials, logged_in: creds !== null },
			jwks_cache: jwksCacheFile(paths.home, config.apiUrl),
			warnings: config.warnings,
		};
		if (args.json) {
			printJson(info);
			return;
		}
		print(`coditect ${VERSION} (node ${process.version}, ${info.platform})`);
		print(
			rows([
				["API URL", `${info.api_url}  (${info.sources.api_url})`],
				["hardware id", `${info.hardware_id}  (hashed, from ${info.sources.hardware_id})`],
				["home", `${info.home}  (${info.sources.home})`],
				["config", `${info.config_file.path}${info.config_file.exists ? "" : "  (not present)"}`],
				["license", `${info.license_file.path}  (${info.license_file.state})`],
				[
					"credentials",
					`${info.credentials_file.path}  (${creds ? `logged in as ${creds.user.email}` : "not logged in"})`,
				],
				["JWKS cache", info.jwks_cache ?? "not used (production keys are built in)"],
			]),
		);
		for (const w of config.warnings) warn(w);
	},
});
