/**
 * The Worker's `[assets]` directory (Scalar's bundle for /docs) exists before workerd starts:
 * wrangler makes it in its custom build, which the test plugin does not run.
 */
import { execFileSync } from "node:child_process";

export default function setup(): void {
	execFileSync(process.execPath, ["scripts/docs-assets.mjs"], { stdio: "ignore" });
}
