/**
 * The operator console's session: the ADMIN token is exchanged once (POST /admin/login) for a
 * cookie holding `v1.<expiry>.<session id>.<mac>`, an HMAC-SHA-256 over the first three parts.
 * The cookie never holds the token. Its key is derived from JWT_SECRET under its own label and
 * from the ADMIN token itself, so rotating either ends every console session at once; nothing
 * is stored server-side. The CSRF token is a second HMAC of the session id under the same key:
 * a page can carry it, a cross-site form cannot know it.
 */
import type { Config } from "../config";
import { randomBytes } from "../kernel/random-bytes";

export const SESSION_COOKIE = "coditect_admin";
/** Short: a console left open on a shared screen dies on its own. */
export const SESSION_SECONDS = 30 * 60;

export interface ConsoleSession {
	id: string;
	expiresAt: number;
	csrf: string;
}

const enc = new TextEncoder();
const keys = new WeakMap<Config, Promise<CryptoKey | null>>();

/** null without ADMIN_TOKEN: there is no console then. */
function sessionKey(config: Config): Promise<CryptoKey | null> {
	let key = keys.get(config);
	if (!key) {
		key = (async () => {
			const adminToken = config.settings.ADMIN_TOKEN;
			if (!adminToken) return null;
			const root = await crypto.subtle.importKey(
				"raw",
				enc.encode(config.settings.JWT_SECRET),
				{ name: "HMAC", hash: "SHA-256" },
				false,
				["sign"],
			);
			const derived = await crypto.subtle.sign(
				"HMAC",
				root,
				enc.encode(`coditect admin console session v1\u0000${adminToken}`),
			);
			return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, [
				"sign",
			]);
		})();
		keys.set(config, key);
	}
	return key;
}

function b64url(bytes: Uint8Array): string {
	let s = "";
	for (const b of bytes) s += String.fromCharCode(b);
	return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function mac(key: CryptoKey, text: string): Promise<string> {
	return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text))));
}

/** Equal length and content without an early exit (both sides are our own MACs' length). */
export function sameString(a: string, b: string): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
	return diff === 0;
}

/** A new session and its cookie value. */
export async function openSession(
	config: Config,
	now = Date.now(),
): Promise<{ value: string; session: ConsoleSession }> {
	const key = await sessionKey(config);
	if (!key) throw new Error("openSession without ADMIN_TOKEN");
	const id = b64url(randomBytes(18));
	const expiresAt = Math.floor(now / 1000) + SESSION_SECONDS;
	const body = `v1.${expiresAt}.${id}`;
	return {
		value: `${body}.${await mac(key, `session\u0000${body}`)}`,
		session: { id, expiresAt, csrf: await mac(key, `csrf\u0000${id}`) },
	};
}

/** The session a cookie value proves, or null (absent, forged, expired, from an old token). */
export async function readSession(
	config: Config,
	value: string | undefined,
	now = Date.now(),
): Promise<ConsoleSession | null> {
	if (!value || value.length > 200) return null;
	const m = /^(v1\.(\d{1,12})\.([A-Za-z0-9_-]{24}))\.([A-Za-z0-9_-]{43})$/.exec(value);
	if (!m?.[1] || !m[2] || !m[3] || !m[4]) return null;
	const key = await sessionKey(config);
	if (!key) return null;
	if (!sameString(await mac(key, `session\u0000${m[1]}`), m[4])) return null;
	const expiresAt = Number(m[2]);
	if (expiresAt * 1000 <= now) return null;
	return { id: m[3], expiresAt, csrf: await mac(key, `csrf\u0000${m[3]}`) };
}
