import type { Context, MiddlewareHandler } from "hono";
import { type Mailer, mailerFor } from "./accounts/mailer";
import type { PasswordHasher } from "./accounts/password";
import { type AccountService, accountService } from "./accounts/service";
import type { RequestMeta } from "./audit/log";
import { type Billing, billing } from "./billing/index";
import { type CiService, ciService } from "./ci/index";
import type { Config } from "./config";
import type { Database } from "./db/client";
import { Licenses } from "./licenses/index";
import type { RequestLogSink } from "./middleware/request-log";
import { Orgs } from "./orgs/index";
import type { RateLimiter } from "./ratelimit/limiter";
import { type SsoAdmin, ssoAdmin } from "./sso/admin";
import { type SsoLogin, ssoLogin } from "./sso/login";
import { DEFAULT_DOH_URL, dohResolver, type TxtResolver } from "./sso/resolver";
import { type WebhookEndpointService, webhookEndpointService } from "./webhooks/endpoints";
import { endpointSecrets } from "./webhooks/secrets";
import { PRODUCTION_POLICY, type UrlPolicy } from "./webhooks/ssrf";

export interface AppEnv {
	Bindings: Record<string, unknown>;
	Variables: {
		requestId: string;
		services: Services;
		/** Set by requireUser(). */
		user: { id: string; email: string; sessionId: string };
	};
}

/** Per-request dependencies, read in handlers with `c.get("services")`. */
export interface Services {
	config: Config;
	/** Always fresh (Hyperdrive with caching disabled on Workers): every read that decides something. */
	db: Database;
	/**
	 * Reads that may be up to a minute stale (Hyperdrive's query cache on Workers; the same pool on
	 * Node): dashboards, never license status, auth or billing.
	 */
	cachedDb: Database;
	meta: RequestMeta;
	/** Every license and activation use case: key holder, owner, operator. */
	licenses: Licenses;
	accounts: AccountService;
	/** Organisations, named seats, invitations. */
	orgs: Orgs;
	mailer: Mailer;
	/** Checkout, Portal, webhooks; each answers 503 BILLING_NOT_CONFIGURED without Stripe settings. */
	billing: Billing;
	limiter: RateLimiter;
	/** CI runners: org API keys, trust rules, leases. */
	ci: CiService;
	/** An org's single sign-on settings and domains. */
	sso: SsoAdmin;
	/** Signing in through an org's own OpenID provider, onto a free seat. */
	ssoLogin: SsoLogin;
	/** An org's outbound webhook endpoints (register, rotate, disable, deliveries). */
	webhookEndpoints: WebhookEndpointService;
	defer: (work: Promise<unknown>) => void;
}

/**
 * What differs between the Worker and the Node server. The Worker builds a database client
 * per request (a module-level one breaks under concurrency in workerd); Node shares a pool.
 */
export interface Runtime {
	/** Config and database for this request; throws ApiError("MISCONFIGURED") on bad settings. */
	resolve(c: Context<AppEnv>): Promise<{
		config: Config;
		db: Database;
		/** Builds the cached-read client on first use; without it, `db` serves those reads too. */
		cachedDb?: () => Database;
		limiter: RateLimiter;
		/** Overrides `webhookUrlPolicy` when the rules depend on this request's env (the Worker). */
		webhookUrlPolicy?: UrlPolicy;
	}>;
	/**
	 * The caller's address from the platform (CF-Connecting-IP / the socket), never a client's
	 * X-Forwarded-For (on Node, only what the operator's TRUSTED_PROXIES appended).
	 */
	clientIp(c: Context<AppEnv>): string | null;
	/** Work that may finish after the response (waitUntil on Workers). */
	defer(c: Context<AppEnv>, work: Promise<unknown>): void;
	/** Argon2id: a WASM module in workerd, the native binding on Node; same PHC strings. */
	passwords: PasswordHasher;
	/**
	 * Scalar's browser bundle for `/docs` (4 MB): a static asset on Workers, the npm package's
	 * file on Node. null when this install has none (the page then shows its fallback link).
	 */
	docsBundle(c: Context<AppEnv>): Promise<Response | null>;
	/** The Node entry's mailer (SMTP or Resend, chosen at start); else one from the settings. */
	mailer?: Mailer;
	/** TXT lookups for SSO domains when DNS_OVER_HTTPS_URL is not set (Node: node:dns); else DoH. */
	txtResolver?: TxtResolver;
	/**
	 * The URL rules for registering webhook endpoints: the same ones this runtime delivers with
	 * (Node: WEBHOOK_DEV_URLS; the Worker answers per env from `resolve`). Absent: production, so
	 * no endpoint is accepted that would never be delivered to.
	 */
	webhookUrlPolicy?: UrlPolicy;
	/** Where this request's log line goes; null (or absent) = none. */
	requestLog?: (c: Context<AppEnv>) => RequestLogSink | null;
}

export function servicesMiddleware(runtime: Runtime): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const {
			config,
			db,
			cachedDb: makeCachedDb,
			limiter,
			webhookUrlPolicy,
		} = await runtime.resolve(c);
		const meta: RequestMeta = {
			ip: runtime.clientIp(c),
			userAgent: c.req.header("user-agent") ?? null,
		};
		const requestId = c.get("requestId");
		const defer = (work: Promise<unknown>): void =>
			runtime.defer(
				c,
				work.catch((err: unknown) => {
					console.error(
						`[${requestId}] deferred work failed:`,
						err instanceof Error ? err.message : err,
					);
				}),
			);
		// Domain services are built on first use: a validate needs one of them, not all four.
		let cachedDb: Database | undefined;
		let licenses: Licenses | undefined;
		let mailer: Mailer | undefined;
		let accounts: AccountService | undefined;
		let billingService: Billing | undefined;
		let orgs: Orgs | undefined;
		let ci: CiService | undefined;
		let sso: SsoAdmin | undefined;
		let ssoLoginService: SsoLogin | undefined;
		let hooks: WebhookEndpointService | undefined;
		c.set("services", {
			config,
			db,
			get cachedDb() {
				cachedDb ??= makeCachedDb?.() ?? db;
				return cachedDb;
			},
			meta,
			defer,
			limiter,
			get licenses() {
				licenses ??= new Licenses({ db, config, meta, now: () => new Date() });
				return licenses;
			},
			get mailer() {
				mailer ??= runtime.mailer ?? mailerFor(config.settings);
				return mailer;
			},
			get accounts() {
				accounts ??= accountService({
					db,
					config,
					meta,
					defer,
					mailer: this.mailer,
					passwords: runtime.passwords,
					licenses: this.licenses,
				});
				return accounts;
			},
			get orgs() {
				orgs ??= new Orgs({
					db,
					config,
					meta,
					mailer: this.mailer,
					licenses: this.licenses,
					defer,
					now: () => new Date(),
				});
				return orgs;
			},
			get ci() {
				ci ??= ciService({ db, config, meta });
				return ci;
			},
			get sso() {
				const doh = config.settings.DNS_OVER_HTTPS_URL;
				sso ??= ssoAdmin({
					db,
					config,
					meta,
					resolver:
						doh || !runtime.txtResolver ? dohResolver(doh ?? DEFAULT_DOH_URL) : runtime.txtResolver,
					now: () => new Date(),
				});
				return sso;
			},
			get ssoLogin() {
				ssoLoginService ??= ssoLogin({
					db,
					config,
					meta,
					licenses: this.licenses,
					now: () => new Date(),
				});
				return ssoLoginService;
			},
			get webhookEndpoints() {
				hooks ??= webhookEndpointService({
					db,
					meta,
					policy: webhookUrlPolicy ?? runtime.webhookUrlPolicy ?? PRODUCTION_POLICY,
					secrets: endpointSecrets(config.settings.LICENSE_KEY_PEPPER),
					now: () => new Date(),
				});
				return hooks;
			},
			get billing() {
				billingService ??= billing({ db, config, meta, requestId });
				return billingService;
			},
		});
		await next();
	};
}
