/**
 * `npm run dev`: the Worker inside workerd (wrangler dev) on a local database: DATABASE_URL, or
 * the embedded one under .data/ served over the wire so Hyperdrive's local mode can reach it.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { openDatabase } from "../src/node/database";
import { devSecrets } from "../src/node/dev-settings";

const dataDir = resolve(".data");
const database = await openDatabase({
	url: process.env.DATABASE_URL || undefined,
	dataDir: resolve(dataDir, "pglite"),
	max: 1,
});
const { secrets } = await devSecrets(dataDir);
const url = new URL(database.url);
if (!url.password) url.password = "postgres"; // wrangler's Hyperdrive insists on one

// wrangler reads secrets for local runs from .dev.vars (gitignored). Single quotes: dotenv takes
// them literally, so a JWK's JSON quotes reach the Worker unescaped.
const vars = {
	...secrets,
	...(process.env.ADMIN_TOKEN ? { ADMIN_TOKEN: process.env.ADMIN_TOKEN } : {}),
};
await writeFile(
	".dev.vars",
	Object.entries(vars)
		.map(([k, v]) => `${k}='${v}'`)
		.join("\n"),
	{ mode: 0o600 },
);

const child = spawn(
	"wrangler",
	["dev", "--port", process.env.PORT ?? "8787", ...process.argv.slice(2)],
	{
		stdio: "inherit",
		env: {
			...process.env,
			CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: url.toString(),
			CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE_FRESH: url.toString(),
		},
	},
);
const stop = async (code: number) => {
	await database.close();
	process.exit(code);
};
child.on("exit", (code) => void stop(code ?? 0));
process.once("SIGINT", () => child.kill("SIGINT"));
process.once("SIGTERM", () => child.kill("SIGTERM"));
