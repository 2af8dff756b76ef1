import { existsSync } from "node:fs";
import { defineCommand } from "citty";
import { PUBLIC_KEYS } from "../../keys/index";
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
			// What this build can verify production tokens with; none means a development build.
			bundled_keys: PUBLIC_KEYS.map((k) => k.kid),
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
				[
					"bundled keys",
					PUBLIC_KEYS.length > 0
						? info.bundled_keys.join(", ")
						: "none (a development build: it cannot verify tokens from the production server)",
				],
				[
					"JWKS cache",
					info.jwks_cache ?? "not used (this URL is verified with the bundled keys only)",
				],
			]),
		);
		for (const w of config.warnings) warn(w);
	},
});
