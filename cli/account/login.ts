/** Shared steps of `login` and `signup`: credentials from prompts/stdin, session output. */
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { currentApiUrlSetting } from "../config";
import { CliError } from "../errors";
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

export function reportLogin(creds: StoredCredentials, json: boolean | undefined): void {
	if (json) {
		printJson({
			logged_in: true,
			user: creds.user,
			session_expires_at: new Date(creds.refresh_expires_at * 1000).toISOString(),
		});
		return;
	}
	print(`${out().green("✓")} Logged in as ${out().bold(creds.user.email)}.`);
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
