/** Arguments and helpers every command shares. */
import { hostname } from "node:os";
import type { CheckContext } from "../check";
import { type CliConfig, resolveConfig } from "../config";
import { resolveHardwareId } from "../fingerprint";
import { homePaths } from "../store";

export const sharedArgs = {
	json: { type: "boolean", description: "Print machine-readable JSON" },
	"api-url": {
		type: "string",
		valueHint: "url",
		description: "License server URL (default: CODITECT_API_URL, config.yaml, production)",
	},
} as const;

export interface SharedArgs {
	json?: boolean | undefined;
	"api-url"?: string | undefined;
}

export function configFrom(args: SharedArgs): CliConfig {
	return resolveConfig({ apiUrl: args["api-url"] });
}

/** Config, paths and this machine's hardware id: what every license operation needs. */
export function contextFrom(args: SharedArgs): CheckContext {
	const config = configFrom(args);
	return {
		config,
		paths: homePaths(config.home),
		hardwareId: resolveHardwareId(config).id,
		nowMs: Date.now(),
	};
}

/** Optional activation fields, cut to the server's limits (SPEC §3). */
export function machineDescription(): { hostname: string; platform: string } {
	return {
		hostname: [...hostname()]
			.filter((ch) => ch.charCodeAt(0) > 0x1f && ch.charCodeAt(0) !== 0x7f)
			.join("")
			.slice(0, 255),
		platform: `${process.platform}-${process.arch}`.slice(0, 32),
	};
}
