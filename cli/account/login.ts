/** Shared steps of `login` and `signup`: credentials from prompts/stdin, session output. */
import type { SsoLoginView, SsoStartView } from "../../src/sso/login";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { currentApiUrlSetting } from "../config";
import { CliError, EXIT_USAGE } from "../errors";
import { isObject } from "../home";
import { out, print, printJson } from "../output";
import { ask, askHidden } from "../prompt";
import { isSessionBody, type SessionBody, type StoredCredentials } from "./credentials";
import {
	authorizationUrl,
	createPkce,
	LOGIN_TIMEOUT_MS,
	openInBrowser,
	randomState,
	startLoopback,
} from "./oauth";

/** Why an address cannot be an account's, or undefined: checked before any request. */
export function emailProblem(email: string): string | undefined {
	return /^[^\s@]+@[^\s@]+$/.test(email) && email.length <= 254
		? undefined
		: `"${email}" is not an email address`;
}

/**
 * Why a password cannot be an account's (the server takes 8 to 128 characters), or undefined.
 * Checked locally so a typo'd short password re-asks instead of costing a login attempt
 * (five wrong ones lock the account for 15 minutes).
 */
export function passwordProblem(password: string): string | undefined {
	return password.length < 8 || password.length > 128
		? "Passwords are 8 to 128 characters long"
		: undefined;
}

export async function readEmail(given: string | undefined): Promise<string> {
	if (given !== undefined) {
		const problem = emailProblem(given);
		if (problem) throw new CliError(`${problem}. Try again.`, "INVALID_EMAIL");
		return given;
	}
	return ask("Email: ", "email", { validate: emailProblem, code: "INVALID_EMAIL" });
}

/** In a terminal a password of the wrong length is asked again; piped, it is an error. */
export async function readPassword(prompt = "Password: "): Promise<string> {
	return askHidden(prompt, "password", { validate: passwordProblem, code: "INVALID_PASSWORD" });
}

export function expectSession(value: unknown): SessionBody {
	if (!isSessionBody(value)) {
		throw new CliError(
			`The server answered with something that is not a session. Check the server address (${currentApiUrlSetting()}).`,
			"BAD_RESPONSE",
		);
	}
	return value;
}

/** `sso` adds the organisation the login seated the user in. */
export function reportLogin(
	creds: StoredCredentials,
	json: boolean | undefined,
	sso?: Partial<Pick<SsoLoginView, "org" | "joined">>,
): void {
	const org = sso?.org;
	if (json) {
		printJson({
			logged_in: true,
			user: creds.user,
			session_expires_at: new Date(creds.refresh_expires_at * 1000).toISOString(),
			...(org ? { org: { id: org.id, name: org.name, role: org.role }, joined: sso?.joined } : {}),
		});
		return;
	}
	print(`${out().green("✓")} Logged in as ${out().bold(creds.user.email)}.`);
	if (org) {
		print(
			sso?.joined
				? `  You now hold a seat in ${out().bold(org.name)} (${org.role}).`
				: `  Member of ${out().bold(org.name)} (${org.role}).`,
		);
	}
}

interface Provider {
	name: string;
	authorization_endpoint: string;
	client_id: string;
	scopes: string[];
}

function readProviders(value: unknown): Provider[] {
	if (!isObject(value) || !Array.isArray(value.providers)) return [];
	return value.providers.filter(
		(p): p is Provider =>
			isObject(p) &&
			typeof p.name === "string" &&
			typeof p.authorization_endpoint === "string" &&
			typeof p.client_id === "string" &&
			Array.isArray(p.scopes),
	);
}

/**
 * Browser login: PKCE + state + loopback listener, the URL printed for headless machines.
 * Resolves with the session the server returns for the authorization code.
 */
export async function browserLogin(
	apiUrl: string,
	providerName: string,
	opts: { openBrowser: boolean; timeoutMs?: number; invite?: string | undefined },
): Promise<SessionBody> {
	let providers: Provider[];
	try {
		providers = readProviders(
			await apiRequest<unknown>(apiUrl, "GET", "/api/v1/auth/oauth/providers"),
		);
	} catch (err) {
		if (err instanceof ApiFailure) throw failureToCliError(err, apiUrl, "browser login");
		throw err;
	}
	const provider = providers.find((p) => p.name === providerName);
	if (!provider) {
		const names = providers.map((p) => p.name).join(", ") || "none";
		throw new CliError(
			`The server does not offer login with ${providerName} (available: ${names}). Use \`coditect login\` with email and password.`,
			"PROVIDER_UNAVAILABLE",
		);
	}
	const pkce = createPkce();
	const state = randomState();
	const loopback = await startLoopback({
		provider: providerName,
		state,
		timeoutMs: opts.timeoutMs ?? LOGIN_TIMEOUT_MS,
	});
	try {
		const url = authorizationUrl({
			endpoint: provider.authorization_endpoint,
			clientId: provider.client_id,
			scopes: provider.scopes,
			redirectUri: loopback.redirectUri,
			state,
			challenge: pkce.challenge,
		});
		process.stderr.write(
			`Open this address in a browser to log in with ${providerName}:\n\n  ${url}\n\n`,
		);
		if (opts.openBrowser) await openInBrowser(url);
		process.stderr.write("Waiting for the browser (5 minutes)…\n");
		const code = await loopback.code;
		try {
			return expectSession(
				await apiRequest<unknown>(apiUrl, "POST", "/api/v1/auth/oauth/callback", {
					json: {
						provider: providerName,
						code,
						code_verifier: pkce.verifier,
						redirect_uri: loopback.redirectUri,
						...(opts.invite ? { invite_code: opts.invite } : {}),
					},
				}),
			);
		} catch (err) {
			if (err instanceof ApiFailure && err.code === "INVALID_CODE") {
				throw new CliError(
					`${providerName} did not confirm this login (the server's code exchange with PKCE failed: ${err.message}). Run \`coditect login --provider ${providerName}\` again.`,
					err.code,
				);
			}
			if (err instanceof ApiFailure) throw failureToCliError(err, apiUrl, "browser login");
			throw err;
		}
	} finally {
		await loopback.close();
	}
}

/** `--sso` names the work address (routed by its domain) or the organisation's id. */
export function ssoTarget(value: string): { email: string } | { org: string } {
	const v = value.trim();
	if (v.includes("@")) {
		const problem = emailProblem(v);
		if (problem) throw new CliError(`${problem}. Try again.`, "INVALID_EMAIL");
		return { email: v };
	}
	if (!/^org_[0-9a-z]{1,60}$/i.test(v)) {
		throw new CliError(
			`"${v}" is neither an email address nor an organisation id (org_…). Give your work address, e.g. \`coditect login --sso you@company.com\`.`,
			"INVALID_SSO_TARGET",
		);
	}
	return { org: v };
}

function isStart(value: unknown): value is SsoStartView {
	return (
		isObject(value) &&
		typeof value.authorization_url === "string" &&
		typeof value.state === "string" &&
		isObject(value.org) &&
		typeof value.org.name === "string"
	);
}

export type SsoSession = SessionBody & Partial<Pick<SsoLoginView, "org" | "joined">>;

/**
 * Login through the organisation's own provider: the same PKCE + loopback as --provider, but
 * the server builds the authorization URL (the client id and nonce are the org's) and seals
 * `state`; the loopback is open before that (the redirect URI names its port) and accepts
 * nothing until the state is known.
 */
export async function ssoBrowserLogin(
	apiUrl: string,
	value: string,
	opts: { openBrowser: boolean; timeoutMs?: number },
): Promise<SsoSession> {
	const target = ssoTarget(value);
	const retry = `coditect login --sso ${value.trim()}`;
	const pkce = createPkce();
	let state: string | null = null;
	const loopback = await startLoopback({
		provider: "sso",
		state: () => state,
		timeoutMs: opts.timeoutMs ?? LOGIN_TIMEOUT_MS,
		retry,
	});
	try {
		let started: unknown;
		try {
			started = await apiRequest<unknown>(apiUrl, "POST", "/api/v1/auth/sso/start", {
				json: { ...target, redirect_uri: loopback.redirectUri, code_challenge: pkce.challenge },
			});
		} catch (err) {
			if (err instanceof ApiFailure && err.code === "NOT_FOUND") {
				throw new CliError(
					`No organisation signs in ${value.trim()} through single sign-on on ${apiUrl}: the organisation has not connected its identity provider or verified this domain (or the server has no SSO login). Ask its admin, or log in with \`coditect login\`.`,
					"SSO_NOT_CONFIGURED",
				);
			}
			if (err instanceof ApiFailure) throw failureToCliError(err, apiUrl, "single sign-on");
			throw err;
		}
		if (!isStart(started)) {
			throw new CliError(
				`The server answered with something that is not an SSO sign-in. Check the server address (${currentApiUrlSetting()}).`,
				"BAD_RESPONSE",
			);
		}
		state = started.state;
		const org = started.org.name;
		process.stderr.write(
			`Open this address in a browser to log in to ${org} with its single sign-on:\n\n  ${started.authorization_url}\n\n`,
		);
		if (opts.openBrowser) await openInBrowser(started.authorization_url);
		process.stderr.write("Waiting for the browser (5 minutes)…\n");
		const code = await loopback.code;
		try {
			const answer = await apiRequest<unknown>(apiUrl, "POST", "/api/v1/auth/sso/callback", {
				json: {
					state,
					code,
					code_verifier: pkce.verifier,
					redirect_uri: loopback.redirectUri,
				},
				wait: "Logging in",
			});
			return expectSession(answer) as SsoSession;
		} catch (err) {
			if (err instanceof ApiFailure && err.code === "SEAT_LIMIT_REACHED") {
				// The server's sentence names the org and the count; the fields go to --json.
				throw new CliError(`${err.message} No one was logged in.`, err.code, EXIT_USAGE, {
					seats: err.body.seats,
					used: err.body.used,
				});
			}
			if (err instanceof ApiFailure && err.code === "INVALID_CODE") {
				throw new CliError(
					`${org}'s identity provider did not confirm this login (${err.message}). Run \`${retry}\` again.`,
					err.code,
				);
			}
			if (err instanceof ApiFailure && err.code === "FORBIDDEN") {
				throw new CliError(err.message, err.code);
			}
			if (err instanceof ApiFailure) throw failureToCliError(err, apiUrl, "single sign-on");
			throw err;
		}
	} finally {
		await loopback.close();
	}
}
