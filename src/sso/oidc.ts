/**
 * The org's own OpenID provider, server side: discovery per issuer (oauth4webapi), then the
 * same loopback PKCE exchange as Google sign-in (src/accounts/oauth.ts), with the ID token's
 * `iss`, `aud`, `exp` and `nonce` checked by oauth4webapi and `email_verified` by us. The
 * CLI keeps `state`, the PKCE verifier and the nonce; the redirect path `/callback/sso` is
 * this door's own (mix-up defence against a Google or GitHub code).
 */
import * as oauth from "oauth4webapi";
import { ApiError, apiError } from "../errors";

export const SSO_SCOPES = ["openid", "email"];
export const SSO_REDIRECT_PATH = "/callback/sso";

export interface SsoClient {
	issuer: string;
	clientId: string;
	clientSecret: string;
}

export interface SsoExchangeInput {
	code: string;
	code_verifier: string;
	redirect_uri: string;
	nonce: string;
}

export interface SsoIdentity {
	subject: string;
	/** Lower-cased; only an address the provider marks `email_verified`. */
	verifiedEmail: string | null;
}

function insecure(url: string): boolean {
	return new URL(url).protocol === "http:";
}

// Metadata by issuer, per isolate / process; a failed discovery is forgotten at once.
const discovered = new Map<string, { as: oauth.AuthorizationServer; at: number }>();
const DISCOVERY_MAX_AGE_MS = 10 * 60_000;

/** The provider's metadata; throws ApiError BAD_GATEWAY when it cannot be read. */
export async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
	const cached = discovered.get(issuer);
	if (cached && Date.now() - cached.at < DISCOVERY_MAX_AGE_MS) return cached.as;
	try {
		const url = new URL(issuer);
		const res = await oauth.discoveryRequest(url, {
			algorithm: "oidc",
			[oauth.allowInsecureRequests]: insecure(issuer),
			signal: AbortSignal.timeout(5_000),
		});
		const as = await oauth.processDiscoveryResponse(url, res);
		discovered.set(issuer, { as, at: Date.now() });
		return as;
	} catch (err) {
		console.error("sso discovery failed:", err instanceof Error ? err.message : err);
		throw apiError(
			"BAD_GATEWAY",
			"The organisation's identity provider could not be reached (OpenID discovery failed).",
		);
	}
}

/** `http://127.0.0.1:<port>/callback/sso` or the same on `[::1]`, spelled exactly. */
export function isAllowedSsoRedirectUri(uri: string): boolean {
	let url: URL;
	try {
		url = new URL(uri);
	} catch {
		return false;
	}
	return (
		url.protocol === "http:" &&
		(url.hostname === "127.0.0.1" || url.hostname === "[::1]") &&
		uri === `http://${url.host}${SSO_REDIRECT_PATH}`
	);
}

/** Exchanges the code and returns who the org's provider says this is. */
export async function exchangeSsoCode(
	client: SsoClient,
	input: SsoExchangeInput,
): Promise<SsoIdentity> {
	if (!isAllowedSsoRedirectUri(input.redirect_uri)) {
		throw new ApiError(
			"INVALID_REQUEST",
			`redirect_uri must be http://127.0.0.1:<port>${SSO_REDIRECT_PATH} (or [::1]).`,
			{ extra: { fields: ["redirect_uri"] } },
		);
	}
	const as = await discover(client.issuer);
	const c: oauth.Client = { client_id: client.clientId };
	let tokens: oauth.TokenEndpointResponse;
	try {
		const callback = new URLSearchParams({ code: input.code });
		if (as.authorization_response_iss_parameter_supported) callback.set("iss", as.issuer);
		const params = oauth.validateAuthResponse(as, c, callback, oauth.skipStateCheck);
		const response = await oauth.authorizationCodeGrantRequest(
			as,
			c,
			oauth.ClientSecretPost(client.clientSecret),
			params,
			input.redirect_uri,
			input.code_verifier,
			{ [oauth.allowInsecureRequests]: insecure(as.token_endpoint ?? as.issuer) },
		);
		if (response.status >= 400 && response.status < 500) {
			await response.body?.cancel();
			throw new Refused();
		}
		tokens = await oauth.processAuthorizationCodeResponse(as, c, response, {
			requireIdToken: true,
			expectedNonce: input.nonce,
		});
	} catch (err) {
		if (
			err instanceof Refused ||
			err instanceof oauth.ResponseBodyError ||
			err instanceof oauth.AuthorizationResponseError
		) {
			throw apiError("INVALID_CODE", "The identity provider refused this code. Sign in again.");
		}
		// A bad ID token (wrong iss, aud or nonce, expired) is refused, not a server fault.
		if (err instanceof oauth.OperationProcessingError) {
			console.error("sso id token refused:", err.code, err.message);
			throw apiError(
				"INVALID_CODE",
				"The identity provider's ID token did not check out (issuer, audience, nonce or expiry). Sign in again.",
			);
		}
		console.error("sso exchange failed:", err instanceof Error ? err.message : err);
		throw apiError("BAD_GATEWAY", "The identity provider did not complete the sign-in.");
	}
	const claims = oauth.getValidatedIdTokenClaims(tokens);
	if (!claims?.sub) throw apiError("BAD_GATEWAY", "The identity provider returned no user id.");
	const email = typeof claims.email === "string" ? claims.email.toLowerCase() : null;
	const verified = claims.email_verified === true || claims.email_verified === "true";
	return { subject: claims.sub, verifiedEmail: email && verified ? email : null };
}

class Refused extends Error {}
