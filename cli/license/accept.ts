/**
 * The one way a license token from the server becomes this machine's license: verify it,
 * store it, reset last-seen from its signed time, and hand back the verified claims, so no
 * caller decodes, re-reads or re-verifies what was just checked.
 */
import type { LicenseTokenClaims } from "../../src/kernel/token/claims";
import { importPublicKeySetWith } from "../../src/kernel/token/keys";
import { verifyLicenseTokenWith } from "../../src/kernel/token/verify";
import { apiRequest } from "../api";
import { currentApiUrlSetting } from "../config";
import { CliError, EXIT_UNLICENSED } from "../errors";
import { isObject } from "../home";
import { nodeVerifier } from "../node-crypto";
import type { CheckContext } from "./context";
import { cacheJwks, trustedKeys, trustsFetchedKeys } from "./keys";
import { resetLastSeen, type StoredLicense, writeLicenseFile } from "./store";

/** How this machine revalidates the license later: with its key, or as the owner. */
export type LicenseOrigin =
	| { source: "key"; license_key: string; activation_id: string | null }
	| { source: "account"; activation_id: string };

export interface AcceptedLicense {
	claims: LicenseTokenClaims;
	stored: StoredLicense;
}

/**
 * Verifies a token the server just sent. For a self-hosted server an unknown `kid` fetches
 * and caches that server's JWKS first; for the production server only bundled keys count.
 */
async function verifyServerToken(ctx: CheckContext, token: string): Promise<LicenseTokenClaims> {
	const { config, hardwareId } = ctx;
	const verify = async () =>
		verifyLicenseTokenWith(token, await trustedKeys(config.home, config.apiUrl), nodeVerifier, {
			hardwareId,
			issuer: config.apiUrl,
		});
	let verified = await verify();
	if (!verified.ok && verified.reason === "UNKNOWN_KEY" && trustsFetchedKeys(config.apiUrl)) {
		const jwks = await apiRequest<unknown>(config.apiUrl, "GET", "/.well-known/jwks.json");
		const keys = isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys : [];
		// Only keys that import (Ed25519, kid = thumbprint) are kept.
		const usable = await importPublicKeySetWith({ keys }, nodeVerifier);
		cacheJwks(
			config.home,
			config.apiUrl,
			keys.filter((k) => isObject(k) && typeof k.kid === "string" && usable.has(k.kid)),
		);
		verified = await verify();
	}
	if (verified.ok) return verified.claims;
	const hint =
		verified.reason === "UNKNOWN_KEY"
			? "It is signed with a key this CLI version does not know: update coditect (`npm i -g coditect`)."
			: verified.reason === "ISSUED_IN_FUTURE" || verified.reason === "EXPIRED"
				? "This machine's clock looks wrong: correct the date and time."
				: `Check that ${config.apiUrl} (${currentApiUrlSetting()}) is your CODITECT license server.`;
	throw new CliError(
		`The server sent a license token that does not verify (${verified.reason}). ${hint}`,
		"TOKEN_REJECTED",
		EXIT_UNLICENSED,
	);
}

/**
 * Verifies and stores a fresh token from the server; throws CliError (TOKEN_REJECTED) and
 * stores nothing when it does not verify. The server's signed time (`iat`) becomes
 * last-seen, which is what repairs a last-seen left in the future by a clock that ran ahead.
 */
export async function acceptLicenseToken(
	ctx: CheckContext,
	token: string,
	origin: LicenseOrigin,
): Promise<AcceptedLicense> {
	const claims = await verifyServerToken(ctx, token);
	const stored: StoredLicense = {
		version: 1,
		api_url: ctx.config.apiUrl,
		source: origin.source,
		license_key: origin.source === "key" ? origin.license_key : null,
		license_id: claims.sub,
		activation_id: origin.activation_id,
		token,
		last_online_at: Math.floor(Date.now() / 1000),
	};
	writeLicenseFile(ctx.paths, stored);
	resetLastSeen(ctx.paths, claims.iat * 1000);
	return { claims, stored };
}
