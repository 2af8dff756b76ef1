import { Hono } from "hono";
import * as z from "zod";
import { OAUTH_PROVIDERS } from "../accounts/oauth";
import { requireUser } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { addressBucket } from "../ratelimit/limiter";
import type { AppEnv } from "../services";
import { email } from "./schemas";

/** 8–128 characters, any Unicode, compared exactly as sent (no trimming or normalisation). */
const password = z.string().min(8).max(128);
const refreshToken = z.string().min(1).max(256);

/** A pilot invite (`INV-XXXX-…`); case, dashes and spaces do not matter. */
const inviteCode = z.string().min(1).max(64);

const SignupBody = z.strictObject({
	email,
	password,
	invite_code: inviteCode.optional(),
});
const VerifyBody = z.strictObject({ email, code: z.string().regex(/^[0-9]{6}$/) });
const LoginBody = z.strictObject({ email, password });
const RefreshBody = z.strictObject({ refresh_token: refreshToken });
const OAuthCallbackBody = z.strictObject({
	provider: z.enum(OAUTH_PROVIDERS),
	code: z.string().min(1).max(2048),
	// RFC 7636 §4.1: 43–128 unreserved characters.
	code_verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/),
	redirect_uri: z.string().min(1).max(2048),
	// Needed only when this sign-in creates an account on an invite-only server.
	invite_code: inviteCode.optional(),
});

/**
 * Limits count every attempt from an address, malformed ones included. Callers without a
 * platform address (no CF-Connecting-IP, a Unix socket) share one bucket: fail closed, not open.
 */
const perIp = (c: { get(k: "services"): { meta: { ip: string | null } } }) => {
	const ip = c.get("services").meta.ip;
	return ip === null ? "unknown" : addressBucket(ip);
};

/** docs/api.md §3.2. Mounted at /api/v1/auth; signup and login also at the seed's /auth. */
export const authRoutes = new Hono<AppEnv>()
	.post("/signup", rateLimit("signup", perIp), validate("json", SignupBody), async (c) => {
		const { accounts } = c.get("services");
		await accounts.signup(c.req.valid("json"));
		return c.json({ status: "verification_sent" }, 202);
	})
	.post("/verify", validate("json", VerifyBody), async (c) => {
		const { accounts } = c.get("services");
		return c.json(await accounts.verify(c.req.valid("json")), 200);
	})
	.post("/login", rateLimit("login", perIp), validate("json", LoginBody), async (c) => {
		const { accounts } = c.get("services");
		return c.json(await accounts.login(c.req.valid("json")), 200);
	})
	.post("/refresh", validate("json", RefreshBody), async (c) => {
		const { accounts } = c.get("services");
		return c.json(await accounts.refresh(c.req.valid("json").refresh_token), 200);
	})
	// Older clients call refresh under oauth/ (docs/api.md §3).
	.post("/oauth/refresh", validate("json", RefreshBody), async (c) => {
		const { accounts } = c.get("services");
		return c.json(await accounts.refresh(c.req.valid("json").refresh_token), 200);
	})
	.post("/logout", requireUser(), validate("json", RefreshBody), async (c) => {
		const { accounts } = c.get("services");
		await accounts.logout(c.get("user"), c.req.valid("json").refresh_token);
		return c.body(null, 204);
	})
	.post(
		"/oauth/callback",
		rateLimit("login", perIp),
		validate("json", OAuthCallbackBody),
		async (c) => {
			const { accounts } = c.get("services");
			return c.json(await accounts.oauthCallback(c.req.valid("json")), 200);
		},
	)
	.get("/oauth/providers", async (c) => {
		const { accounts } = c.get("services");
		return c.json({ providers: await accounts.providers() }, 200);
	});

/** The seed's unprefixed paths, same handlers. */
export const seedAuthRoutes = new Hono<AppEnv>()
	.post("/signup", rateLimit("signup", perIp), validate("json", SignupBody), async (c) => {
		const { accounts } = c.get("services");
		await accounts.signup(c.req.valid("json"));
		return c.json({ status: "verification_sent" }, 202);
	})
	.post("/login", rateLimit("login", perIp), validate("json", LoginBody), async (c) => {
		const { accounts } = c.get("services");
		return c.json(await accounts.login(c.req.valid("json")), 200);
	});
