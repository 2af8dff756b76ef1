/** What every license operation needs: configuration, the home's paths, this machine's id. */
import { type CliConfig, resolveConfig } from "../config";
import { resolveHardwareId } from "../fingerprint";
import { type HomePaths, homePaths } from "../home";

export interface CheckContext {
	config: CliConfig;
	paths: HomePaths;
	hardwareId: string;
	nowMs: number;
}

/** Throws CliError for an unusable API URL or a machine without an id. */
export function licenseContext(flags: {
	apiUrl?: string | undefined;
	home?: string | undefined;
}): CheckContext {
	const config = resolveConfig(flags);
	return {
		config,
		paths: homePaths(config.home),
		hardwareId: resolveHardwareId(config).id,
		nowMs: Date.now(),
	};
}
