/**
 * The org's OIDC client secret at rest: AES-256-GCM under a key derived (HKDF-SHA-256) from
 * LICENSE_KEY_PEPPER, so a database dump alone does not hand out the org's provider
 * credentials. Stored as `v1.<iv>.<ciphertext>` (base64url); the org id is the associated
 * data, so a sealed secret copied onto another org's row does not open.
 */
const VERSION = "v1";
const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(pepper: string): Promise<CryptoKey> {
	let key = keys.get(pepper);
	if (!key) {
		key = (async () => {
			const base = await crypto.subtle.importKey("raw", utf8(pepper), "HKDF", false, ["deriveKey"]);
			return crypto.subtle.deriveKey(
				{
					name: "HKDF",
					hash: "SHA-256",
					salt: new Uint8Array(0),
					info: utf8("coditect-sso-client-secret-v1"),
				},
				base,
				{ name: "AES-GCM", length: 256 },
				false,
				["encrypt", "decrypt"],
			);
		})();
		keys.set(pepper, key);
	}
	return key;
}

export async function sealSecret(pepper: string, orgId: string, secret: string): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const ct = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv, additionalData: utf8(orgId) },
		await keyFor(pepper),
		utf8(secret),
	);
	return `${VERSION}.${b64url(iv)}.${b64url(new Uint8Array(ct))}`;
}

/** The secret, or null when the sealed value is malformed, tampered or another org's. */
export async function openSecret(
	pepper: string,
	orgId: string,
	sealed: string,
): Promise<string | null> {
	const [version, iv, ct] = sealed.split(".");
	if (version !== VERSION || !iv || !ct) return null;
	try {
		const plain = await crypto.subtle.decrypt(
			{ name: "AES-GCM", iv: unb64url(iv), additionalData: utf8(orgId) },
			await keyFor(pepper),
			unb64url(ct),
		);
		return new TextDecoder().decode(plain);
	} catch {
		return null;
	}
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
