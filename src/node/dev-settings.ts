/**
 * Zero-setup local runs: secrets that are not configured are generated once under `.data/`
 * (gitignored) and reused, so tokens stay verifiable across restarts. Never used when the
 * setting is given, and refused under NODE_ENV=production.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSigningKeyPair } from "../kernel/index";

interface DevSecrets {
	LICENSE_SIGNING_KEY: string;
	LICENSE_KEY_PEPPER: string;
	JWT_SECRET: string;
	/** So `npm start` can show the operator routes at once; production sets its own or none. */
	ADMIN_TOKEN: string;
}

export async function devSecrets(
	dataDir: string,
): Promise<{ secrets: DevSecrets; created: boolean }> {
	const file = join(dataDir, "dev-secrets.json");
	try {
		return { secrets: JSON.parse(await readFile(file, "utf8")) as DevSecrets, created: false };
	} catch {
		const pair = await generateSigningKeyPair();
		const secrets: DevSecrets = {
			LICENSE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
			LICENSE_KEY_PEPPER: randomBytes(32).toString("base64url"),
			JWT_SECRET: randomBytes(32).toString("base64url"),
			ADMIN_TOKEN: randomBytes(32).toString("base64url"),
		};
		await mkdir(dataDir, { recursive: true });
		await writeFile(file, `${JSON.stringify(secrets, null, "\t")}\n`, { mode: 0o600 });
		return { secrets, created: true };
	}
}
