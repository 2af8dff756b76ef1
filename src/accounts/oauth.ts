/**
 * Google and GitHub sign-in, server side: the CLI runs the browser part (its own PKCE
 * verifier, `state`, loopback redirect) and posts the code here; we exchange it with the
 * provider and read a stable provider id and, when the provider vouches for it, the email.
 */
import * as oauth from "oauth4webapi";
import type { Settings } from "../env";
import { ApiError, apiError } from "../errors";

export const OAUTH_PROVIDERS = ["google", "github"] as const;
export type OAuthProviderName = (typeof OAUTH_PROVIDERS)[number];

export interface ProviderInfo {
	name: OAuthProviderName;
	authorization_endpoint: string;
	client_id: string;
	scopes: string[];
	code_challenge_method: "S256";
	/** The redirect path this provider's code must come back to (mix-up defence). */
	redirect_path: string;
}

export interface ProviderIdentity {
	provider: OAuthProviderName;
	providerId: string;
	/** Lower-cased; null when the provider has no verified address for this user. */
	verifiedEmail: string | null;
}

export interface CallbackInput {
	provider: OAuthProviderName;
	code: string;
	code_verifier: string;
	redirect_uri: string;
	/** Spent only when the sign-in creates an account while signup is invite-only. */
	invite_code?: string | undefined;
}

const SCOPES: Record<OAuthProviderName, string[]> = {
	google: ["openid", "email"],
	github: ["read:user", "user:email"],
};

interface Credentials {
	clientId: string;
	clientSecret: string;
}

function credentials(settings: Settings, provider: OAuthProviderName): Credentials | null {
	const [id, secret] =
		provider === "google"
			? [settings.GOOGLE_CLIENT_ID, settings.GOOGLE_CLIENT_SECRET]
			: [settings.GITHUB_CLIENT_ID, settings.GITHUB_CLIENT_SECRET];
	return id && secret ? { clientId: id, clientSecret: secret } : null;
}

/**
 * Exact redirect URIs only: `http://127.0.0.1:<any port>/callback/<provider>` or the same on
 * `[::1]` (RFC 8252 §7.3 loopback, any port), nothing else — no query, fragment, userinfo or
 * other host. The per-provider path is the mix-up defence: a code the CLI received on
 * /callback/github cannot be presented as a Google code, and the provider itself checks that
 * the redirect_uri matches the one used at authorization.
 */
export function isAllowedRedirectUri(provider: OAuthProviderName, uri: string): boolean {
	let url: URL;
	try {
		url = new URL(uri);
	} catch {
		return false;
	}
	const loopback = url.hostname === "127.0.0.1" || url.hostname === "[::1]";
	return (
		url.protocol === "http:" &&
		loopback &&
		url.username === "" &&
		url.password === "" &&
		url.search === "" &&
		url.hash === "" &&
		url.pathname === `/callback/${provider}` &&
		// Reject spellings the URL parser would normalise (e.g. `/callback/./google`).
		uri === `http://${url.host}/callback/${provider}`
	);
}

/** http issuers are accepted only on loopback (local mocks); production providers are https. */
function insecureAllowed(url: string): boolean {
	const u = new URL(url);
	return (
		u.protocol === "http:" &&
		(u.hostname === "127.0.0.1" || u.hostname === "[::1]" || u.hostname === "localhost")
	);
}

// Provider metadata rarely changes; discovery is fetched once per isolate / process.
const discovered = new Map<string, Promise<oauth.AuthorizationServer>>();

async function googleServer(settings: Settings): Promise<oauth.AuthorizationServer> {
	const issuer = settings.GOOGLE_ISSUER;
	let pending = discovered.get(issuer);
	if (!pending) {
		const url = new URL(issuer);
		pending = oauth
			.discoveryRequest(url, {
				algorithm: "oidc",
				[oauth.allowInsecureRequests]: insecureAllowed(issuer),
			})
			.then((res) => oauth.processDiscoveryResponse(url, res));
		discovered.set(issuer, pending);
		pending.catch(() => discovered.delete(issuer));
	}
	return pending;
}

function githubServer(settings: Settings): oauth.AuthorizationServer {
	return {
		// GitHub is not an OpenID provider and has no issuer; its token host stands in (it only
		// matters if an ID token ever came back, which real GitHub never sends).
		issuer: new URL(settings.GITHUB_TOKEN_URL).origin,
		authorization_endpoint: settings.GITHUB_AUTHORIZATION_URL,
		token_endpoint: settings.GITHUB_TOKEN_URL,
		code_challenge_methods_supported: ["S256"],
	};
}

export async function listProviders(settings: Settings): Promise<ProviderInfo[]> {
	const out: ProviderInfo[] = [];
	for (const name of OAUTH_PROVIDERS) {
		const creds = credentials(settings, name);
		if (!creds) continue;
		let endpoint: string | undefined;
		try {
			endpoint = (name === "google" ? await googleServer(settings) : githubServer(settings))
				.authorization_endpoint;
		} catch (err) {
			console.error(
				`oauth discovery for ${name} failed:`,
				err instanceof Error ? err.message : err,
			);
		}
		if (!endpoint) continue;
		out.push({
			name,
			authorization_endpoint: endpoint,
			client_id: creds.clientId,
			scopes: SCOPES[name],
			code_challenge_method: "S256",
			redirect_path: `/callback/${name}`,
		});
	}
	return out;
}

/** Exchanges the code (with the PKCE verifier) and returns who the provider says this is. */
export async function exchangeCode(
	settings: Settings,
	input: CallbackInput,
): Promise<ProviderIdentity> {
	const creds = credentials(settings, input.provider);
	if (!creds)
		throw apiError("NOT_FOUND", `Sign-in with ${input.provider} is not configured on this server.`);
	if (!isAllowedRedirectUri(input.provider, input.redirect_uri)) {
		throw new ApiError(
			"INVALID_REQUEST",
			`redirect_uri must be http://127.0.0.1:<port>/callback/${input.provider} (or [::1]).`,
			{ extra: { fields: ["redirect_uri"] } },
		);
	}
	let as: oauth.AuthorizationServer;
	try {
		as = input.provider === "google" ? await googleServer(settings) : githubServer(settings);
	} catch {
		throw apiError("BAD_GATEWAY", `${input.provider} could not be reached. Try again shortly.`);
	}
	const client: oauth.Client = { client_id: creds.clientId };
	const options = {
		[oauth.allowInsecureRequests]: insecureAllowed(as.token_endpoint ?? as.issuer),
	};
	let tokens: oauth.TokenEndpointResponse;
	try {
		// The CLI got the code on its loopback listener; RFC 9207's `iss` was checked there, and
		// the per-provider redirect path above stands in for it here.
		const callback = new URLSearchParams({ code: input.code });
		if (as.authorization_response_iss_parameter_supported) callback.set("iss", as.issuer);
		const params = oauth.validateAuthResponse(as, client, callback, oauth.skipStateCheck);
		const response = await oauth.authorizationCodeGrantRequest(
			as,
			client,
			oauth.ClientSecretPost(creds.clientSecret),
			params,
			input.redirect_uri,
			input.code_verifier,
			options,
		);
		// A 4xx is the provider refusing this code (wrong verifier, reused or foreign code),
		// whatever shape its error body takes.
		if (response.status >= 400 && response.status < 500) {
			await response.body?.cancel();
			throw new ProviderRefusal();
		}
		tokens = await oauth.processAuthorizationCodeResponse(
			as,
			client,
			response,
			input.provider === "google" ? { requireIdToken: true } : undefined,
		);
	} catch (err) {
		if (isProviderRefusal(err)) {
			throw apiError(
				"INVALID_CODE",
				"The provider refused this authorization code. Sign in again.",
			);
		}
		console.error(`oauth exchange with ${input.provider} failed:`, describe(err));
		throw apiError(
			"BAD_GATEWAY",
			`${input.provider} did not complete the sign-in. Try again shortly.`,
		);
	}
	return input.provider === "google"
		? googleIdentity(tokens)
		: githubIdentity(settings, tokens.access_token);
}

function googleIdentity(tokens: oauth.TokenEndpointResponse): ProviderIdentity {
	const claims = oauth.getValidatedIdTokenClaims(tokens);
	if (!claims?.sub) throw apiError("BAD_GATEWAY", "Google returned no user id.");
	const email = typeof claims.email === "string" ? claims.email.toLowerCase() : null;
	const verified = claims.email_verified === true || claims.email_verified === "true";
	return {
		provider: "google",
		providerId: claims.sub,
		verifiedEmail: email && verified ? email : null,
	};
}

async function githubIdentity(settings: Settings, accessToken: string): Promise<ProviderIdentity> {
	const api = settings.GITHUB_API_URL.replace(/\/+$/, "");
	const get = async (path: string): Promise<unknown> => {
		const res = await fetch(`${api}${path}`, {
			headers: {
				authorization: `Bearer ${accessToken}`,
				accept: "application/vnd.github+json",
				"user-agent": "coditect-license-server",
				"x-github-api-version": "2022-11-28",
			},
		});
		if (!res.ok) throw apiError("BAD_GATEWAY", `GitHub answered ${res.status} for ${path}.`);
		return res.json();
	};
	const user = (await get("/user")) as { id?: unknown };
	if (typeof user.id !== "number" && typeof user.id !== "string") {
		throw apiError("BAD_GATEWAY", "GitHub returned no user id.");
	}
	// /user's `email` is the public profile address, not necessarily verified: ask /user/emails.
	const emails = await get("/user/emails");
	let verifiedEmail: string | null = null;
	if (Array.isArray(emails)) {
		for (const e of emails as Array<{ email?: unknown; primary?: unknown; verified?: unknown }>) {
			if (e.primary === true && e.verified === true && typeof e.email === "string") {
				verifiedEmail = e.email.toLowerCase();
			}
		}
	}
	return { provider: "github", providerId: String(user.id), verifiedEmail };
}

class ProviderRefusal extends Error {}

function isProviderRefusal(err: unknown): boolean {
	return (
		err instanceof ProviderRefusal ||
		err instanceof oauth.ResponseBodyError ||
		err instanceof oauth.AuthorizationResponseError
	);
}

function describe(err: unknown): string {
	if (err instanceof Error) {
		const code = (err as { code?: unknown }).code;
		return `${err.name}${typeof code === "string" ? ` ${code}` : ""}: ${err.message}`;
	}
	return String(err);
}
