import { Hono } from "hono";
import * as z from "zod";
import { OAUTH_PROVIDERS } from "../accounts/oauth";
import { requireUser } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { addressBucket } from "../ratelimit/limiter";
import type { AppEnv } from "../services";
import { SSO_REDIRECT_PATH } from "../sso/oidc";
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

/** RFC 7636 §4.1 verifier; its S256 challenge is always 43 base64url characters. */
const codeVerifier = z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/);
const SsoStartBody = z.strictObject({
	/** Routes by the address's domain (verified by an org); or… */
	email: email.optional(),
	/** …the org's id. Exactly one of the two. */
	org: z.string().min(1).max(64).optional(),
	redirect_uri: z
		.string()
		.min(1)
		.max(2048)
		.describe(`\`http://127.0.0.1:<port>${SSO_REDIRECT_PATH}\` (or \`[::1]\`), spelled exactly.`),
	code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});
const SsoCallbackBody = z.strictObject({
	state: z.string().min(1).max(2048),
	code: z.string().min(1).max(2048),
	code_verifier: codeVerifier,
	redirect_uri: z.string().min(1).max(2048),
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
	})
	// Both steps count as logins: a start reads the database and may fetch the org's discovery.
	.post("/sso/start", rateLimit("login", perIp), validate("json", SsoStartBody), async (c) => {
		const { ssoLogin } = c.get("services");
		return c.json(await ssoLogin.start(c.req.valid("json")), 200);
	})
	.post(
		"/sso/callback",
		rateLimit("login", perIp),
		validate("json", SsoCallbackBody),
		async (c) => {
			const { ssoLogin } = c.get("services");
			return c.json(await ssoLogin.callback(c.req.valid("json")), 200);
		},
	);

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
