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
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PUBLIC_KEYS } from "../../keys/index";
import { importPublicKeySetWith } from "../../src/kernel/token/keys";
import { DEFAULT_API_URL } from "../config";
import { isObject, writeJsonFile } from "../home";
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

/**
 * The JWKS cache file's text for this server, or null (none, unreadable, or not trusted).
 * Read at once: for a server whose keys are trusted, activation left the file there.
 */
function cachedJwksText(home: string, apiUrl: string): string | null {
	if (!trustsFetchedKeys(apiUrl)) return null;
	try {
		return readFileSync(jwksCachePath(home, apiUrl), "utf8");
	} catch {
		return null;
	}
}

function keysOf(text: string, apiUrl: string): unknown[] {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		return [];
	}
	if (!isObject(value)) return [];
	const { api_url, keys } = value;
	return api_url === apiUrl && Array.isArray(keys) ? keys : [];
}

type KeySet = ReadonlyMap<string, KeyObject>;

/**
 * Imported sets, by server and cache text: a host tool that checks again in the same process
 * imports no key twice (~10 µs a key for createPublicKey, and its thumbprint, of a ~300 µs
 * check on a slow machine). The same text always imports to the same keys, and a JWKS newly
 * written to the cache is new text, so nothing stale is ever served.
 */
let bundled: Promise<KeySet> | undefined;
const withFetched = new Map<string, Promise<KeySet>>();

/** Bundled keys plus, for a non-default server, the cached JWKS of that server. */
export function trustedKeys(home: string, apiUrl: string): Promise<KeySet> {
	const text = cachedJwksText(home, apiUrl);
	if (text === null) {
		if (!bundled) {
			bundled = importPublicKeySetWith(PUBLIC_KEYS, nodeVerifier);
			bundled.catch(() => {
				bundled = undefined;
			});
		}
		return bundled;
	}
	const memo = `${apiUrl}\0${text}`;
	let keys = withFetched.get(memo);
	if (!keys) {
		if (withFetched.size >= 8) withFetched.clear(); // a process sees one or two servers
		keys = importPublicKeySetWith(
			{ keys: [...PUBLIC_KEYS, ...keysOf(text, apiUrl)] },
			nodeVerifier,
		);
		withFetched.set(memo, keys);
		// Never keep a failure: the next check tries again.
		keys.catch(() => withFetched.delete(memo));
	}
	return keys;
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
