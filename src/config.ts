import { PUBLIC_KEYS } from "../keys/index";
import { importJwtSecret } from "./accounts/access-token";
import type { Settings } from "./env";
import {
	importKeyPepper,
	importSigningKey,
	type PublicJwk,
	type SigningKey,
} from "./license/index";

/** Settings turned into ready-to-use keys; built once per isolate / process. */
export interface Config {
	settings: Settings;
	/** `iss` of license tokens: the server's public URL without a trailing slash. */
	issuer: string;
	signingKey: SigningKey;
	/** The JWKS: the bundled public keys (current and previous) plus the signing key's own. */
	jwks: readonly PublicJwk[];
	pepper: CryptoKey;
	/** HMAC key for access tokens (JWT_SECRET). */
	jwtKey: CryptoKey;
}

export async function buildConfig(settings: Settings): Promise<Config> {
	const [signingKey, pepper, jwtKey] = await Promise.all([
		importSigningKey(settings.LICENSE_SIGNING_KEY),
		importKeyPepper(settings.LICENSE_KEY_PEPPER),
		importJwtSecret(settings.JWT_SECRET),
	]);
	const jwks = [signingKey.publicJwk, ...PUBLIC_KEYS.filter((k) => k.kid !== signingKey.kid)];
	return {
		settings,
		issuer: settings.PUBLIC_URL.replace(/\/+$/, ""),
		signingKey,
		jwks,
		pepper,
		jwtKey,
	};
}
