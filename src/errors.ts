/**
 * The error model (docs/api.md §3): one closed set of codes, one status per code, one handler.
 * Anything that is not an ApiError is a bug and leaves as a generic 500 with a request id.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const codeToStatus = {
	INVALID_REQUEST: 400,
	INVALID_CODE: 400,
	UNAUTHORIZED: 401,
	INVALID_CREDENTIALS: 401,
	FORBIDDEN: 403,
	INVITE_REQUIRED: 403,
	ACTIVATION_LIMIT_REACHED: 403,
	SEAT_LIMIT_REACHED: 403,
	// Password doors for a domain whose org signs in only through its own provider.
	SSO_REQUIRED: 403,
	// An unusable license answers activate with its validation code (docs/api.md §3.3).
	EXPIRED: 403,
	SUSPENDED: 403,
	REVOKED: 403,
	PAST_DUE: 403,
	NOT_FOUND: 404,
	LICENSE_NOT_FOUND: 404,
	ACTIVATION_NOT_FOUND: 404,
	METHOD_NOT_ALLOWED: 405,
	CONFLICT: 409,
	CI_CONCURRENCY_LIMIT: 409,
	PAYLOAD_TOO_LARGE: 413,
	UNSUPPORTED_MEDIA_TYPE: 415,
	RATE_LIMITED: 429,
	INTERNAL_ERROR: 500,
	MISCONFIGURED: 500,
	BAD_GATEWAY: 502,
	SERVICE_UNAVAILABLE: 503,
	BILLING_NOT_CONFIGURED: 503,
	MAIL_NOT_CONFIGURED: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof codeToStatus;

export interface ErrorBody {
	error: { code: ErrorCode | string; message: string; request_id: string } & Record<
		string,
		unknown
	>;
}

/** An expected failure with a code from the contract. `extra` adds documented fields (never secrets). */
export class ApiError extends Error {
	readonly code: ErrorCode;
	readonly extra: Record<string, unknown> | undefined;
	readonly headers: Record<string, string> | undefined;
	constructor(
		code: ErrorCode,
		message: string,
		opts?: { extra?: Record<string, unknown>; headers?: Record<string, string> },
	) {
		super(message);
		this.name = "ApiError";
		this.code = code;
		this.extra = opts?.extra;
		this.headers = opts?.headers;
	}
	get status(): ContentfulStatusCode {
		return codeToStatus[this.code];
	}
}

export function errorResponse(c: Context, err: ApiError): Response {
	const body: ErrorBody = {
		error: {
			...err.extra,
			code: err.code,
			message: err.message,
			request_id: requestIdOf(c),
		},
	};
	return c.json(body, err.status, err.headers);
}

export function requestIdOf(c: Context): string {
	const id = c.get("requestId" as never) as unknown;
	return typeof id === "string" ? id : "unknown";
}

const UNAVAILABLE_CODES = new Set([
	"ECONNREFUSED",
	"ECONNRESET",
	"ETIMEDOUT",
	"EHOSTUNREACH",
	"EPIPE",
	"CONNECT_TIMEOUT",
	"CONNECTION_CLOSED",
	"CONNECTION_ENDED",
	"CONNECTION_DESTROYED",
	"57P01", // admin_shutdown
	"57P02", // crash_shutdown
	"57P03", // cannot_connect_now
	"53300", // too_many_connections
]);
// workerd's sockets fail with plain Errors and no code.
const UNAVAILABLE_MESSAGES =
	/proxy request failed|cannot connect to the specified address|Network connection lost|socket has been closed|Stream was cancelled|connection terminated/i;

/** Postgres / driver failures that mean "the database is not reachable right now". */
function isDatabaseUnavailable(err: unknown): boolean {
	const seen = new Set<unknown>();
	let e: unknown = err;
	while (e && typeof e === "object" && !seen.has(e)) {
		seen.add(e);
		const code = (e as { code?: unknown }).code;
		if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08")))
			return true;
		const message = (e as { message?: unknown }).message;
		if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
		e = (e as { cause?: unknown }).cause;
	}
	return false;
}

/** The one error handler: contract errors as they are, everything else without detail. */
export function onError(err: Error, c: Context): Response {
	if (err instanceof ApiError) return errorResponse(c, err);
	if (err instanceof HTTPException) {
		// Hono raises these for malformed bodies and the like; keep its status, never its message.
		const status = err.status;
		const code: ErrorCode =
			status === 413
				? "PAYLOAD_TOO_LARGE"
				: status === 415
					? "UNSUPPORTED_MEDIA_TYPE"
					: status === 401
						? "UNAUTHORIZED"
						: status === 404
							? "NOT_FOUND"
							: "INVALID_REQUEST";
		return errorResponse(c, new ApiError(code, defaultMessages[code]));
	}
	if (isDatabaseUnavailable(err)) {
		console.error(`[${requestIdOf(c)}] database unavailable:`, describe(err));
		return errorResponse(
			c,
			new ApiError(
				"SERVICE_UNAVAILABLE",
				"The service is temporarily unavailable. Try again shortly.",
				{
					headers: { "Retry-After": "5" },
				},
			),
		);
	}
	console.error(`[${requestIdOf(c)}] unhandled error:`, describe(err));
	return errorResponse(c, new ApiError("INTERNAL_ERROR", "Something went wrong on our side."));
}

function describe(err: unknown): string {
	if (err instanceof Error) return `${err.name}: ${err.message}\n${err.stack ?? ""}`;
	return String(err);
}

const defaultMessages: Record<ErrorCode, string> = {
	INVALID_REQUEST: "The request is malformed.",
	INVALID_CODE: "The code is wrong or has expired.",
	UNAUTHORIZED: "Authentication is required.",
	INVALID_CREDENTIALS: "Invalid email or password.",
	FORBIDDEN: "Not allowed.",
	INVITE_REQUIRED: "Signing up needs a valid, unused invite code during the pilot.",
	ACTIVATION_LIMIT_REACHED: "This license has no free activations left.",
	SEAT_LIMIT_REACHED: "Every seat of this organisation's license is taken.",
	SSO_REQUIRED:
		"This address signs in through its organisation's single sign-on: run `coditect login --sso <email>`.",
	EXPIRED: "This license has expired.",
	SUSPENDED: "This license is suspended.",
	REVOKED: "This license has been revoked.",
	PAST_DUE: "The payment for this license is overdue.",
	NOT_FOUND: "Not found.",
	LICENSE_NOT_FOUND: "No license matches this key.",
	ACTIVATION_NOT_FOUND: "No activation matches this license and machine.",
	METHOD_NOT_ALLOWED: "This method is not allowed on this route.",
	CONFLICT: "The request conflicts with the current state.",
	CI_CONCURRENCY_LIMIT: "Every CI runner slot of this organisation's plan is in use.",
	PAYLOAD_TOO_LARGE: "The request body is larger than 16 KiB.",
	UNSUPPORTED_MEDIA_TYPE: "The request body must be application/json.",
	RATE_LIMITED: "Too many requests. Try again later.",
	INTERNAL_ERROR: "Something went wrong on our side.",
	MISCONFIGURED: "The service is misconfigured.",
	BAD_GATEWAY: "An upstream service failed.",
	SERVICE_UNAVAILABLE: "The service is temporarily unavailable. Try again shortly.",
	BILLING_NOT_CONFIGURED: "Billing is not configured on this server.",
	// Said to the person signing up, who cannot fix it: who can, and that nothing was stored.
	MAIL_NOT_CONFIGURED:
		"Signup is unavailable: this server cannot send email, so the verification code could never reach you. Nothing was stored; ask the server's operator to configure mail.",
};

export function apiError(
	code: ErrorCode,
	message?: string,
	extra?: Record<string, unknown>,
): ApiError {
	return new ApiError(code, message ?? defaultMessages[code], extra ? { extra } : undefined);
}
