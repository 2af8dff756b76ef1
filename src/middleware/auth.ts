import type { MiddlewareHandler } from "hono";
import { verifyAccessToken } from "../accounts/access-token";
import { isSessionLive } from "../accounts/sessions";
import type { AppEnv } from "../env";
import { apiError } from "../errors";
import { documented } from "../openapi/tags";

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
