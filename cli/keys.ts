/**
 * Which public keys verify license tokens.
 *
 * The keys bundled from `keys/` are always trusted. Keys fetched from a server's JWKS are
 * trusted only for a non-default API URL (self-hosted and development servers, whose keys
 * cannot be bundled), cached per API URL and bound to it: the cache file names its URL and
 * is ignored for any other, and never consulted for the production URL. So a local attacker
 * who can write CODITECT_HOME cannot add a key that production tokens are checked with; for
 * a self-hosted URL they could, but the same attacker could as well replace the CLI itself.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { PUBLIC_KEYS } from "../keys/index";
import { importPublicKeySet, type PublicKeySet } from "../src/license/token";
import { DEFAULT_API_URL } from "./config";
import { isObject, readJsonFile, writeJsonFile } from "./store";

function jwksCachePath(home: string, apiUrl: string): string {
	const tag = createHash("sha256").update(apiUrl).digest("hex").slice(0, 16);
	return join(home, "jwks", `${tag}.json`);
}

/** Whether keys fetched from this server may be trusted at all. */
export function trustsFetchedKeys(apiUrl: string): boolean {
	return apiUrl !== DEFAULT_API_URL;
}

function cachedKeys(home: string, apiUrl: string): unknown[] {
	if (!trustsFetchedKeys(apiUrl)) return [];
	const read = readJsonFile(jwksCachePath(home, apiUrl));
	if (read.kind !== "ok" || !isObject(read.value)) return [];
	const { api_url, keys } = read.value;
	return api_url === apiUrl && Array.isArray(keys) ? keys : [];
}

/** Bundled keys plus, for a non-default server, the cached JWKS of that server. */
export async function trustedKeys(home: string, apiUrl: string): Promise<PublicKeySet> {
	const fetched = cachedKeys(home, apiUrl);
	if (fetched.length === 0) return importPublicKeySet(PUBLIC_KEYS);
	return importPublicKeySet({ keys: [...PUBLIC_KEYS, ...fetched] });
}

/** Stores a server's JWKS for later offline checks (only for non-default servers). */
export function cacheJwks(home: string, apiUrl: string, keys: unknown[]): void {
	if (!trustsFetchedKeys(apiUrl)) return;
	writeJsonFile(jwksCachePath(home, apiUrl), {
		api_url: apiUrl,
		fetched_at: new Date().toISOString(),
		keys,
	});
}

export function jwksCacheFile(home: string, apiUrl: string): string | null {
	return trustsFetchedKeys(apiUrl) ? jwksCachePath(home, apiUrl) : null;
}
