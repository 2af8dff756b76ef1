/** Arguments and helpers every command shares. */
import { type CliConfig, resolveConfig } from "../config";
import { type CheckContext, licenseContext } from "../license/context";

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
	return licenseContext({ apiUrl: args["api-url"] });
}
