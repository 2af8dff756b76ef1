/**
 * Secrets at rest: AES-256-GCM under a key derived (HKDF-SHA-256) from LICENSE_KEY_PEPPER with
 * a label per purpose, so a database dump alone does not hand them out, and a value sealed for
 * one purpose never opens as another. Stored as `v1.<iv>.<ciphertext>` (base64url); the owning
 * row's id is the associated data, so a sealed value copied onto another row does not open.
 *
 * Purposes: an org's OIDC client secret (`sealSecret`/`openSecret`, keyed by the org id) and
 * webhook endpoints' signing secrets (src/webhooks/secrets.ts, keyed by the endpoint id).
 */
const VERSION = "v1";
export const SSO_CLIENT_SECRET_LABEL = "coditect-sso-client-secret-v1";
export const WEBHOOK_SIGNING_SECRET_LABEL = "coditect-webhook-signing-secret-v1";
export type SecretLabel = typeof SSO_CLIENT_SECRET_LABEL | typeof WEBHOOK_SIGNING_SECRET_LABEL;

const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(label: SecretLabel, pepper: string): Promise<CryptoKey> {
	const cacheKey = `${label}\u0000${pepper}`;
	let key = keys.get(cacheKey);
	if (!key) {
		key = (async () => {
			const base = await crypto.subtle.importKey("raw", utf8(pepper), "HKDF", false, ["deriveKey"]);
			return crypto.subtle.deriveKey(
				{ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(label) },
				base,
				{ name: "AES-GCM", length: 256 },
				false,
				["encrypt", "decrypt"],
			);
		})();
		keys.set(cacheKey, key);
	}
	return key;
}

export async function sealWith(
	label: SecretLabel,
	pepper: string,
	context: string,
	secret: string,
): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const ct = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv, additionalData: utf8(context) },
		await keyFor(label, pepper),
		utf8(secret),
	);
	return `${VERSION}.${b64url(iv)}.${b64url(new Uint8Array(ct))}`;
}

/** The secret, or null when the sealed value is malformed, tampered, another row's or purpose's. */
export async function openWith(
	label: SecretLabel,
	pepper: string,
	context: string,
	sealed: string,
): Promise<string | null> {
	const [version, iv, ct] = sealed.split(".");
	if (version !== VERSION || !iv || !ct) return null;
	try {
		const plain = await crypto.subtle.decrypt(
			{ name: "AES-GCM", iv: unb64url(iv), additionalData: utf8(context) },
			await keyFor(label, pepper),
			unb64url(ct),
		);
		return new TextDecoder().decode(plain);
	} catch {
		return null;
	}
}

/** An org's OIDC client secret, sealed under the org id. */
export function sealSecret(pepper: string, orgId: string, secret: string): Promise<string> {
	return sealWith(SSO_CLIENT_SECRET_LABEL, pepper, orgId, secret);
}

export function openSecret(pepper: string, orgId: string, sealed: string): Promise<string | null> {
	return openWith(SSO_CLIENT_SECRET_LABEL, pepper, orgId, sealed);
}

function utf8(s: string): Uint8Array<ArrayBuffer> {
	return new TextEncoder().encode(s);
}

function b64url(bytes: Uint8Array): string {
	let s = "";
	for (const b of bytes) s += String.fromCharCode(b);
	return btoa(s).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

function unb64url(s: string): Uint8Array<ArrayBuffer> {
	const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
	return out;
}
