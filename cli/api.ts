/**
 * HTTP client for the license server (SPEC §3). Network failures become CliError exit 3;
 * an error answer becomes ApiFailure carrying the server's code, which callers map to a
 * message that says what to do next (`failureToCliError` is the default mapping).
 */
import { CliError, EXIT_NETWORK, EXIT_UNLICENSED, EXIT_USAGE, type ExitCode } from "./errors";
import { isObject } from "./home";
import { VERSION } from "./version";

const DEFAULT_TIMEOUT_MS = 15_000;

export class ApiFailure extends Error {
	readonly status: number;
	readonly code: string;
	readonly body: Record<string, unknown>;
	/** Whole seconds from a 429's Retry-After, when the server sent one. */
	readonly retryAfterS: number | null;
	constructor(
		status: number,
		code: string,
		message: string,
		body: Record<string, unknown>,
		retryAfterS: number | null = null,
	) {
		super(message);
		this.name = "ApiFailure";
		this.status = status;
		this.code = code;
		this.body = body;
		this.retryAfterS = retryAfterS;
	}
}

export interface RequestOptions {
	json?: unknown;
	bearer?: string | undefined;
	timeoutMs?: number;
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
		response = await fetch(`${apiUrl}${path}`, {
			method,
			headers,
			body: opts.json === undefined ? null : JSON.stringify(opts.json),
			signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
			redirect: "error",
		});
	} catch (err) {
		throw new CliError(
			`Could not reach the license server at ${apiUrl} (${describeNetworkError(err)}). Check your connection or CODITECT_API_URL and try again.`,
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
	const retryAfter = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
	throw new ApiFailure(
		response.status,
		code,
		message,
		error,
		Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
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

/** What a 429 means for the user: who is limiting, and when to try again. */
export function rateLimitedMessage(err: ApiFailure): string {
	const wait = err.retryAfterS === null ? "in a minute" : `in ${Math.max(1, err.retryAfterS)} s`;
	return `The license server is limiting requests (429 RATE_LIMITED: too many in a short time). Try again ${wait}.`;
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
		message = `The server at ${apiUrl} does not offer ${feature} (${err.status} ${err.code}). It may be an older server version; check CODITECT_API_URL or update the server.`;
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
