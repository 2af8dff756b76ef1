/**
 * HTTP client for the license server (docs/api.md §3). Network failures become CliError exit 3;
 * an error answer becomes ApiFailure carrying the server's code, which callers map to a
 * message that says what to do next (`failureToCliError` is the default mapping).
 */
import { currentApiUrlSetting } from "./config";
import { CliError, EXIT_NETWORK, EXIT_UNLICENSED, EXIT_USAGE, type ExitCode } from "./errors";
import { isObject } from "./home";
import { withSpinner } from "./spinner";
import { VERSION } from "./version";

const DEFAULT_TIMEOUT_MS = 15_000;

export class ApiFailure extends Error {
	readonly status: number;
	readonly code: string;
	readonly body: Record<string, unknown>;
	/** Whole seconds from a 429's Retry-After, when the server sent one. */
	readonly retryAfterS: number | null;
	/** The request path, so a message can name what was refused. */
	readonly path: string;
	constructor(
		status: number,
		code: string,
		message: string,
		body: Record<string, unknown>,
		retryAfterS: number | null = null,
		path = "",
	) {
		super(message);
		this.name = "ApiFailure";
		this.status = status;
		this.code = code;
		this.body = body;
		this.retryAfterS = retryAfterS;
		this.path = path;
	}
}

export interface RequestOptions {
	json?: unknown;
	bearer?: string | undefined;
	timeoutMs?: number;
	/** What the spinner says while this request takes over 300 ms (terminal runs only). */
	wait?: string;
}

export function userAgent(): string {
	return `coditect-cli/${VERSION} (node ${process.version}; ${process.platform})`;
}

function describeNetworkError(err: unknown): string {
	if (err instanceof Error) {
		if (err.name === "TimeoutError" || err.name === "AbortError") return "timed out";
		const cause = (err as Error & { cause?: unknown }).cause;
		if (isObject(cause) && typeof cause.code === "string") return cause.code;
		return err.message;
	}
	return String(err);
}

/**
 * One request. Resolves with the parsed JSON body of a 2xx answer (null for 204), throws
 * ApiFailure for any other status and CliError(exit 3) when the server cannot be reached.
 */
export async function apiRequest<T>(
	apiUrl: string,
	method: "GET" | "POST" | "DELETE",
	path: string,
	opts: RequestOptions = {},
): Promise<T> {
	const headers: Record<string, string> = { accept: "application/json", "user-agent": userAgent() };
	if (opts.json !== undefined) headers["content-type"] = "application/json";
	if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
	let response: Response;
	try {
		response = await withSpinner(
			opts.wait ?? "Contacting the license server",
			fetch(`${apiUrl}${path}`, {
				method,
				headers,
				body: opts.json === undefined ? null : JSON.stringify(opts.json),
				signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
				redirect: "error",
			}),
		);
	} catch (err) {
		throw new CliError(
			`Could not reach the license server at ${apiUrl} (${describeNetworkError(err)}). Check your connection and the server address (${currentApiUrlSetting()}), then try again.`,
			"NETWORK_ERROR",
			EXIT_NETWORK,
		);
	}
	const text = await response.text().catch(() => "");
	let body: unknown = null;
	if (text !== "") {
		try {
			body = JSON.parse(text);
		} catch {
			body = null;
		}
	}
	if (response.ok) return body as T;
	const error = isObject(body) && isObject(body.error) ? body.error : {};
	const code = typeof error.code === "string" ? error.code : `HTTP_${response.status}`;
	const message =
		typeof error.message === "string" ? error.message : `The server answered ${response.status}.`;
	const header = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
	const retryAfter = Number.isFinite(header) ? header : Number(error.retry_after);
	throw new ApiFailure(
		response.status,
		code,
		message,
		error,
		Number.isSafeInteger(retryAfter) && retryAfter >= 0 ? retryAfter : null,
		path,
	);
}

const LICENSE_CODES: ReadonlySet<string> = new Set([
	"LICENSE_NOT_FOUND",
	"ACTIVATION_LIMIT_REACHED",
	"EXPIRED",
	"SUSPENDED",
	"REVOKED",
	"PAST_DUE",
]);

/** The server's limits (docs/api.md §3.6) by route: what a 429 from each one holds back. */
const LIMITED_ACTIONS: ReadonlyArray<readonly [string, string]> = [
	["/api/v1/licenses/validate", "license checks (60 a minute per license key)"],
	["/api/v1/licenses/activate-mine", "activations (10 an hour per account)"],
	["/api/v1/licenses/activate", "activations (10 an hour per license key)"],
	["/api/v1/auth/login", "logins (5 a minute from this address)"],
	["/api/v1/auth/sso/start", "logins (5 a minute from this address; an SSO login counts twice)"],
	["/api/v1/auth/sso/callback", "logins (5 a minute from this address; an SSO login counts twice)"],
	["/api/v1/auth/signup", "signups (3 a minute from this address)"],
];

function waitText(seconds: number): string {
	const s = Math.max(1, seconds);
	if (s < 120) return `${s} s`;
	const m = Math.ceil(s / 60);
	return m < 120 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** What a 429 means for the user: which action is limited, and when it frees. */
export function rateLimitedMessage(err: ApiFailure): string {
	const action = LIMITED_ACTIONS.find(([path]) => err.path === path)?.[1] ?? "requests";
	const wait =
		err.retryAfterS === null
			? "in a minute"
			: `in ${waitText(err.retryAfterS)} (at ${new Date(Date.now() + err.retryAfterS * 1000).toISOString().slice(11, 16)} UTC)`;
	return `The license server is limiting ${action} (429 RATE_LIMITED). It frees ${wait}; try again then.`;
}

/**
 * Default mapping of an error answer to what the user reads. `feature` names what was
 * attempted, so a server that lacks a route says so instead of a bare 404.
 */
export function failureToCliError(err: ApiFailure, apiUrl: string, feature: string): CliError {
	let exitCode: ExitCode = EXIT_USAGE;
	let message = err.message;
	if (LICENSE_CODES.has(err.code)) {
		exitCode = EXIT_UNLICENSED;
	} else if (err.code === "NOT_FOUND" || err.code === "METHOD_NOT_ALLOWED") {
		message = `The server at ${apiUrl} does not offer ${feature} (${err.status} ${err.code}). It may be an older server version; check the server address (${currentApiUrlSetting()}) or update the server.`;
	} else if (err.code === "RATE_LIMITED") {
		message = rateLimitedMessage(err);
	} else if (err.status === 401) {
		message =
			"The server did not accept your session (signed out elsewhere or expired). Run `coditect login` again.";
	} else if (err.status >= 500) {
		exitCode = EXIT_NETWORK;
		message = `The license server had a problem (${err.status} ${err.code}): ${err.message} Try again later.`;
	}
	return new CliError(message, err.code, exitCode, { status: err.status });
}
