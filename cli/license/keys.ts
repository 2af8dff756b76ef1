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

import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { PUBLIC_KEYS } from "../../keys/index";
import { importPublicKeySetWith } from "../../src/kernel/token/keys";
import { DEFAULT_API_URL } from "../config";
import { isObject, readJsonFile, writeJsonFile } from "../home";
import { nodeVerifier } from "../node-crypto";

/**
 * One file per server, named after its URL. Two URLs could share a name after the
 * replacement, so the file also records its URL and is ignored for any other.
 */
function jwksCachePath(home: string, apiUrl: string): string {
	const name = apiUrl
		.replace(/^https?:\/\//, "")
		.replace(/[^A-Za-z0-9.-]+/g, "_")
		.slice(0, 120);
	return join(home, "jwks", `${name}.json`);
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
export async function trustedKeys(
	home: string,
	apiUrl: string,
): Promise<ReadonlyMap<string, KeyObject>> {
	const fetched = cachedKeys(home, apiUrl);
	if (fetched.length === 0) return importPublicKeySetWith(PUBLIC_KEYS, nodeVerifier);
	return importPublicKeySetWith({ keys: [...PUBLIC_KEYS, ...fetched] }, nodeVerifier);
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
