/**
 * What a middleware means for the API description. Validators, auth and rate limits tag the
 * middleware they return; the OpenAPI document reads the tags off `app.routes`, so the request
 * schemas it publishes are the very objects that validate requests and cannot drift from them.
 * No imports beyond zod's types: middleware files import this.
 */
import type { z } from "zod";

export type MiddlewareDoc =
	| { kind: "input"; target: string; schema: z.ZodType }
	/** `bearer`: a user's access token; `admin`: the operator's ADMIN_TOKEN. */
	/** `ci`: an org API key, a trusted CI OIDC ID token, or (heartbeat, release) the lease token. */
	/** `console`: the operator console's session cookie (POST /admin/login), CSRF token on writes. */
	| { kind: "auth"; scheme: "bearer" | "admin" | "ci" | "console" }
	| { kind: "rate-limit"; rule: string; limit: number; windowSeconds: number };

const docs = new WeakMap<object, MiddlewareDoc>();

/** Tags `handler` and returns it unchanged. */
export function documented<H extends object>(handler: H, doc: MiddlewareDoc): H {
	docs.set(handler, doc);
	return handler;
}

export function docOf(handler: object): MiddlewareDoc | undefined {
	return docs.get(handler);
}
