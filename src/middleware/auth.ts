import type { MiddlewareHandler } from "hono";
import { verifyAccessToken } from "../accounts/access-token";
import { isSessionLive } from "../accounts/sessions";
import { apiError } from "../errors";
import { documented } from "../openapi/tags";
import type { AppEnv } from "../services";

/** Bearer access token required; sets `c.get("user")`. Every failure is the same 401. */
export function requireUser(): MiddlewareHandler<AppEnv> {
	const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
		const header = c.req.header("authorization") ?? "";
		const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
		const { config, db } = c.get("services");
		const claims = match?.[1]
			? await verifyAccessToken(config.jwtKey, config.issuer, match[1])
			: null;
		// Logout and refresh-token replay revoke the session: its access tokens die with it
		// rather than living out their 15 minutes.
		if (!claims || !(await isSessionLive(db, claims.sessionId)))
			throw apiError("UNAUTHORIZED", "A valid access token is required. Log in again.");
		c.set("user", { id: claims.userId, email: claims.email, sessionId: claims.sessionId });
		await next();
	};
	return documented(middleware, { kind: "auth", scheme: "bearer" });
}

/**
 * Bearer ADMIN_TOKEN, compared in constant time. Without a configured token the operator
 * surface does not exist (404), so a default install exposes nothing.
 */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
	const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
		const expected = c.get("services").config.settings.ADMIN_TOKEN;
		if (!expected) throw apiError("NOT_FOUND");
		const header = c.req.header("authorization") ?? "";
		const given = header.startsWith("Bearer ") ? header.slice(7) : "";
		if (!(await timingSafeEqualStrings(given, expected))) {
			throw apiError("UNAUTHORIZED", "A valid operator token is required.");
		}
		await next();
	};
	return documented(middleware, { kind: "auth", scheme: "admin" });
}

/** Compares HMACs of both strings so neither length nor content leaks through timing. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
	const key = await crypto.subtle.importKey(
		"raw",
		crypto.getRandomValues(new Uint8Array(32)),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const enc = new TextEncoder();
	const [ha, hb] = await Promise.all([
		crypto.subtle.sign("HMAC", key, enc.encode(a)),
		crypto.subtle.sign("HMAC", key, enc.encode(b)),
	]);
	const x = new Uint8Array(ha);
	const y = new Uint8Array(hb);
	let diff = 0;
	for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
	return diff === 0;
}
