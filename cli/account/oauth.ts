/**
 * Browser OAuth for `coditect login --provider` (RFC 8252 native-app flow): PKCE with S256
 * (RFC 7636), a random `state`, and a one-shot loopback listener on 127.0.0.1 with a random
 * port and one callback path per provider (mix-up defence). The listener closes after the
 * callback or the timeout (5 minutes), whichever comes first.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CliError } from "../errors";

export const LOGIN_TIMEOUT_MS = 5 * 60 * 1000;

/** base64url(SHA-256(verifier)): the S256 code challenge. */
export function pkceChallenge(verifier: string): string {
	return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** A 43-character verifier (32 random bytes) and its S256 challenge. */
export function createPkce(): { verifier: string; challenge: string } {
	const verifier = randomBytes(32).toString("base64url");
	return { verifier, challenge: pkceChallenge(verifier) };
}

export function randomState(): string {
	return randomBytes(32).toString("base64url");
}

function sameSecret(a: string, b: string): boolean {
	const x = Buffer.from(a);
	const y = Buffer.from(b);
	return x.length === y.length && timingSafeEqual(x, y);
}

/** The authorization URL a provider's browser page is opened at. */
export function authorizationUrl(input: {
	endpoint: string;
	clientId: string;
	scopes: readonly string[];
	redirectUri: string;
	state: string;
	challenge: string;
}): string {
	const url = new URL(input.endpoint);
	url.searchParams.set("response_type", "code");
	url.searchParams.set("client_id", input.clientId);
	url.searchParams.set("redirect_uri", input.redirectUri);
	if (input.scopes.length > 0) url.searchParams.set("scope", input.scopes.join(" "));
	url.searchParams.set("state", input.state);
	url.searchParams.set("code_challenge", input.challenge);
	url.searchParams.set("code_challenge_method", "S256");
	return url.toString();
}

export interface Loopback {
	redirectUri: string;
	port: number;
	/** Resolves with the authorization code; rejects on provider error or timeout. */
	code: Promise<string>;
	close(): Promise<void>;
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
	res.writeHead(status, {
		"content-type": "text/html; charset=utf-8",
		"cache-control": "no-store",
		"content-security-policy": "default-src 'none'",
		"referrer-policy": "no-referrer",
	});
	res.end(
		`<!doctype html><meta charset="utf-8"><title>CODITECT</title><h1>${title}</h1><p>${text}</p>`,
	);
}

/**
 * Starts the loopback listener. Requests with a wrong path or `state` are refused (and the
 * listener keeps waiting, so a stray or hostile request cannot cancel a real login).
 * `state` may be a getter: SSO's state comes from the server, after the port is known; until
 * it is there, every request is refused.
 */
export async function startLoopback(opts: {
	provider: string;
	state: string | (() => string | null);
	timeoutMs?: number;
	/** The command the messages tell the user to run again. */
	retry?: string;
}): Promise<Loopback> {
	const callbackPath = `/callback/${opts.provider}`;
	const retry = opts.retry ?? `coditect login --provider ${opts.provider}`;
	const expected = (): string | null =>
		typeof opts.state === "function" ? opts.state() : opts.state;
	let settle: { resolve: (code: string) => void; reject: (err: Error) => void } | undefined;
	const code = new Promise<string>((resolve, reject) => {
		settle = { resolve, reject };
	});
	// Handled by the caller; this keeps an early rejection from being reported as unhandled.
	code.catch(() => {});
	let done = false;
	const server = createServer((req: IncomingMessage, res: ServerResponse) => {
		const url = new URL(req.url ?? "/", "http://127.0.0.1");
		if (req.method !== "GET" || url.pathname !== callbackPath || done) {
			page(res, 404, "Not found", "This address only receives the CODITECT login callback.");
			return;
		}
		const state = url.searchParams.get("state") ?? "";
		const want = expected();
		if (want === null || !sameSecret(state, want)) {
			page(
				res,
				400,
				"Login refused",
				"This request did not come from your `coditect login` (state mismatch).",
			);
			return;
		}
		const error = url.searchParams.get("error");
		const value = url.searchParams.get("code");
		if (error !== null || !value) {
			page(res, 400, "Login failed", "The provider did not grant access. Return to the terminal.");
			finish(
				new CliError(
					`The provider refused the login (${error ?? "no code"}). Run \`${retry}\` to try again.`,
					"OAUTH_DENIED",
				),
			);
			return;
		}
		page(res, 200, "Signed in", "You can close this tab and return to the terminal.");
		finish(value);
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve());
	});
	const { port } = server.address() as AddressInfo;
	const timer = setTimeout(
		() =>
			finish(
				new CliError(
					`No login arrived from the browser within ${Math.round((opts.timeoutMs ?? LOGIN_TIMEOUT_MS) / 60000) || 1} minute(s). Run \`${retry}\` again.`,
					"LOGIN_TIMEOUT",
				),
			),
		opts.timeoutMs ?? LOGIN_TIMEOUT_MS,
	);

	function close(): Promise<void> {
		clearTimeout(timer);
		return new Promise((resolve) => {
			server.close(() => resolve());
			server.closeAllConnections();
		});
	}

	function finish(outcome: string | Error): void {
		if (done) return;
		done = true;
		void close();
		if (typeof outcome === "string") settle?.resolve(outcome);
		else settle?.reject(outcome);
	}

	return { redirectUri: `http://127.0.0.1:${port}${callbackPath}`, port, code, close };
}

/** Opens a URL in the browser; false when that is impossible (headless, no opener). */
export async function openInBrowser(url: string): Promise<boolean> {
	try {
		const { default: open } = await import("open");
		const child = await open(url, { wait: false });
		return await new Promise<boolean>((resolve) => {
			child.once("error", () => resolve(false));
			child.once("spawn", () => resolve(true));
			setTimeout(() => resolve(true), 500).unref();
		});
	} catch {
		return false;
	}
}
