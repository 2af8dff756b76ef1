/**
 * Settings (docs/api.md §6). Both entry points parse the same string settings with this schema, so
 * a Worker and a Node install refuse the same bad configuration; the Worker answers
 * 500 MISCONFIGURED rather than serve with a weaker fallback.
 */
import * as z from "zod";

const secret = (min: number) => z.string().min(min);

/** String settings shared by the Worker (vars + secrets) and the Node server (process.env). */
export const SettingsSchema = z.object({
	PUBLIC_URL: z.url(),
	/** Private Ed25519 JWK (JSON) that signs license tokens. */
	LICENSE_SIGNING_KEY: secret(1),
	/** Keys the HMAC of stored license keys; ≥ 32 chars of randomness. */
	LICENSE_KEY_PEPPER: secret(32),
	JWT_SECRET: secret(32),
	ADMIN_TOKEN: secret(32).optional(),
	ENABLE_PILOT_SIGNUP: z.enum(["true", "false"]).default("false"),
	AUDIT_RETENTION_DAYS: z.coerce.number().int().min(90).default(365),
	/**
	 * Dev and test only (the Node server refuses it with NODE_ENV=production; the Worker honours
	 * it only while PUBLIC_URL is http:, i.e. `wrangler dev` and tests, never a deployment):
	 * webhook endpoints may use http and loopback addresses (docs/webhooks.md §5).
	 */
	WEBHOOK_DEV_URLS: z.enum(["true", "false"]).default("false"),
	/** Node server: seconds between webhook delivery runs; 0 = none (tests run deliveries themselves). */
	WEBHOOK_DELIVERY_SECONDS: z.coerce.number().int().min(0).max(3600).default(15),
	/** Days a past_due license stays valid while Stripe retries the payment. */
	PAYMENT_GRACE_DAYS: z.coerce.number().int().min(0).max(60).default(7),
	STRIPE_SECRET_KEY: z.string().min(1).optional(),
	STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
	STRIPE_API_BASE: z.url().optional(),
	RESEND_API_KEY: z.string().min(1).optional(),
	/** Resend's API root; tests point it at a local fake. */
	RESEND_API_BASE: z.url().default("https://api.resend.com"),
	MAIL_FROM: z.string().min(3).max(200).default("CODITECT <no-reply@coditect.dev>"),
	GOOGLE_CLIENT_ID: z.string().min(1).optional(),
	GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
	/** OpenID issuer for Google sign-in (discovery is read from it); a mock provider in tests. */
	GOOGLE_ISSUER: z.url().default("https://accounts.google.com"),
	GITHUB_CLIENT_ID: z.string().min(1).optional(),
	GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
	GITHUB_AUTHORIZATION_URL: z.url().default("https://github.com/login/oauth/authorize"),
	GITHUB_TOKEN_URL: z.url().default("https://github.com/login/oauth/access_token"),
	GITHUB_API_URL: z.url().default("https://api.github.com"),
	/**
	 * DNS-over-HTTPS (JSON API) for SSO domain verification: always on Workers; on Node only when
	 * set (else the system resolver). Tests point it at a local fake.
	 */
	DNS_OVER_HTTPS_URL: z.url().optional(),
});
export type Settings = z.infer<typeof SettingsSchema>;

const hyperdrive = z.custom<Hyperdrive>(
	(v) =>
		typeof v === "object" && v !== null && typeof (v as Hyperdrive).connectionString === "string",
);

/** The Worker's env: the settings plus its bindings. */
export const WorkerEnvSchema = SettingsSchema.extend({
	/** Cached Hyperdrive config, for reads that may be slightly stale (plan catalogue). */
	HYPERDRIVE: hyperdrive,
	/** Cache-disabled config: license status, auth and billing must read fresh rows. */
	HYPERDRIVE_FRESH: hyperdrive,
	RATE_LIMITER: z.custom<DurableObjectNamespace>((v) => typeof v === "object" && v !== null),
});

export type WorkerBindings = z.input<typeof WorkerEnvSchema>;

/** Empty strings in the environment mean "not set", as in most deploy tools. */
export function settingsFrom(source: Record<string, unknown>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(source)) if (v !== "") out[k] = v;
	return out;
}
