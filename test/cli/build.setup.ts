/** Builds cli/dist once per run, so the suite tests the bundle users install (fast: esbuild). */
import { buildCli } from "../../scripts/build-cli";

export default async function setup(): Promise<void> {
	await buildCli({ quiet: true });
}
