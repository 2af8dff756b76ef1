/**
 * SSO login's `state`: the server's own note of a started sign-in, carried by the client and
 * the provider instead of a table row. `<base64url JSON>.<HMAC-SHA-256 hex>` under the pepper
 * with its own label, so no other MAC the server makes (license keys, codes) can stand in for
 * it. It names the org, the nonce, the PKCE challenge, the redirect URI and its expiry; none of
 * that is secret, but none of it can be changed.
 */
import { constantTimeEqual } from "../accounts/password";
import { decodeBase64Url, decodeUtf8, encodeUtf8, encodeUtf8Base64Url } from "../kernel/base64url";
import { hmacHex } from "../keyed-hash";

export interface SsoFlow {
	/** Org id. */
	o: string;
	/** ID token nonce. */
	n: string;
	/** PKCE S256 challenge. */
	c: string;
	/** Loopback redirect URI. */
	r: string;
	/** Expiry, Unix seconds. */
	x: number;
}

const mac = (pepper: CryptoKey, payload: string) => hmacHex(pepper, `sso-state\u0000${payload}`);

export async function sealSsoState(pepper: CryptoKey, flow: SsoFlow): Promise<string> {
	const payload = encodeUtf8Base64Url(JSON.stringify(flow));
	return `${payload}.${await mac(pepper, payload)}`;
}

function isFlow(v: unknown): v is SsoFlow {
	if (typeof v !== "object" || v === null) return false;
	const f = v as Record<string, unknown>;
	return (
		typeof f.o === "string" &&
		typeof f.n === "string" &&
		typeof f.c === "string" &&
		typeof f.r === "string" &&
		typeof f.x === "number"
	);
}

/** The flow, or null when the state is malformed, forged, edited or past its expiry. */
export async function openSsoState(
	pepper: CryptoKey,
	state: string,
	now: Date,
): Promise<SsoFlow | null> {
	const [payload, tag, extra] = state.split(".");
	if (!payload || !tag || extra !== undefined) return null;
	if (!constantTimeEqual(encodeUtf8(await mac(pepper, payload)), encodeUtf8(tag))) return null;
	let flow: unknown;
	try {
		flow = JSON.parse(decodeUtf8(decodeBase64Url(payload)));
	} catch {
		return null;
	}
	if (!isFlow(flow) || flow.x * 1000 <= now.getTime()) return null;
	return flow;
}
