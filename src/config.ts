import { PUBLIC_KEYS } from "../keys/index";
import { importJwtSecret } from "./accounts/access-token";
import type { Settings } from "./env";
import {
	hashLicenseKey,
	importKeyPepper,
	importSigningKey,
	type PublicJwk,
	type SigningKey,
} from "./kernel/index";

/** Settings turned into ready-to-use keys; built once per isolate / process. */
export interface Config {
	settings: Settings;
	/** `iss` of license tokens: the server's public URL without a trailing slash. */
	issuer: string;
	signingKey: SigningKey;
	/** The JWKS: the bundled public keys (current and previous) plus the signing key's own. */
	jwks: readonly PublicJwk[];
	pepper: CryptoKey;
	/**
	 * The keyed hash under which license keys are stored (HMAC-SHA-256 with the pepper). A
	 * string at once where the platform hashes synchronously (Node), else a promise (WebCrypto).
	 */
	hashLicenseKey(canonicalKey: string): string | Promise<string>;
	/** HMAC key for access tokens (JWT_SECRET). */
	jwtKey: CryptoKey;
}

/** Faster platform implementations of hot-path crypto; WebCrypto is the portable default. */
export interface PlatformCrypto {
	keyHasher(pepper: string): (canonicalKey: string) => string | Promise<string>;
	signer(
		privateJwk: JsonWebKey,
	): (data: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>;
}

export async function buildConfig(settings: Settings, platform?: PlatformCrypto): Promise<Config> {
	const [signingKey, pepper, jwtKey] = await Promise.all([
		importSigningKey(settings.LICENSE_SIGNING_KEY),
		importKeyPepper(settings.LICENSE_KEY_PEPPER),
		importJwtSecret(settings.JWT_SECRET),
	]);
	if (platform) {
		signingKey.sign = platform.signer(JSON.parse(settings.LICENSE_SIGNING_KEY) as JsonWebKey);
	}
	const jwks = [signingKey.publicJwk, ...PUBLIC_KEYS.filter((k) => k.kid !== signingKey.kid)];
	return {
		settings,
		issuer: settings.PUBLIC_URL.replace(/\/+$/, ""),
		signingKey,
		jwks,
		pepper,
		hashLicenseKey: platform
			? platform.keyHasher(settings.LICENSE_KEY_PEPPER)
			: (canonicalKey) => hashLicenseKey(pepper, canonicalKey),
		jwtKey,
	};
}
