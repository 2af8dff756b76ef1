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
		/** The parsed JSON body (src/middleware/json-body.ts); unset when no body was read. */
		jsonBody: unknown;
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

/** What one request runs on (Runtime.resolve). */
export interface Resolved {
	config: Config;
	db: Database;
	/** Builds the cached-read client on first use; without it, `db` serves those reads too. */
	cachedDb?: () => Database;
	limiter: RateLimiter;
	/** Overrides `webhookUrlPolicy` when the rules depend on this request's env (the Worker). */
	webhookUrlPolicy?: UrlPolicy;
}

/**
 * What differs between the Worker and the Node server. The Worker builds a database client
 * per request (a module-level one breaks under concurrency in workerd); Node shares a pool.
 */
export interface Runtime {
	/** Config and database for this request; throws ApiError("MISCONFIGURED") on bad settings. */
	resolve(c: Context<AppEnv>): Resolved | Promise<Resolved>;
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
	const run = (c: Context<AppEnv>, next: () => Promise<void>, resolved: Resolved) => {
		const meta: RequestMeta = {
			ip: runtime.clientIp(c),
			userAgent: c.req.header("user-agent") ?? null,
		};
		c.set("services", new RequestServices(runtime, c, resolved, meta));
		return next();
	};
	// Not async: Node resolves at once (one pool for the process), and then this layer hands
	// back the next one's promise instead of wrapping it in two more (validate's hot path).
	return (c, next) => {
		const resolved = runtime.resolve(c);
		return "then" in resolved ? resolved.then((r) => run(c, next, r)) : run(c, next, resolved);
	};
}

const now = (): Date => new Date();

/**
 * One request's services. Domain services are built on first use (a validate needs one of
 * them, not all ten); the getters live on the prototype, so a request allocates this one
 * object and not a closure per service (V8's sampling heap profiler: ~3 KB per validate).
 */
class RequestServices implements Services {
	readonly config: Config;
	readonly db: Database;
	readonly meta: RequestMeta;
	readonly limiter: RateLimiter;
	readonly defer: (work: Promise<unknown>) => void;
	readonly #runtime: Runtime;
	readonly #resolved: Resolved;
	readonly #requestId: string;
	#cachedDb: Database | undefined;
	#licenses: Licenses | undefined;
	#mailer: Mailer | undefined;
	#accounts: AccountService | undefined;
	#billing: Billing | undefined;
	#orgs: Orgs | undefined;
	#ci: CiService | undefined;
	#sso: SsoAdmin | undefined;
	#ssoLogin: SsoLogin | undefined;
	#webhookEndpoints: WebhookEndpointService | undefined;

	constructor(runtime: Runtime, c: Context<AppEnv>, resolved: Resolved, meta: RequestMeta) {
		this.#runtime = runtime;
		this.#resolved = resolved;
		this.config = resolved.config;
		this.db = resolved.db;
		this.limiter = resolved.limiter;
		this.meta = meta;
		const requestId = c.get("requestId");
		this.#requestId = requestId;
		this.defer = (work) =>
			runtime.defer(
				c,
				work.catch((err: unknown) => {
					console.error(
						`[${requestId}] deferred work failed:`,
						err instanceof Error ? err.message : err,
					);
				}),
			);
	}

	get cachedDb(): Database {
		this.#cachedDb ??= this.#resolved.cachedDb?.() ?? this.db;
		return this.#cachedDb;
	}

	get licenses(): Licenses {
		this.#licenses ??= new Licenses({ db: this.db, config: this.config, meta: this.meta, now });
		return this.#licenses;
	}

	get mailer(): Mailer {
		this.#mailer ??= this.#runtime.mailer ?? mailerFor(this.config.settings);
		return this.#mailer;
	}

	get accounts(): AccountService {
		this.#accounts ??= accountService({
			db: this.db,
			config: this.config,
			meta: this.meta,
			defer: this.defer,
			mailer: this.mailer,
			passwords: this.#runtime.passwords,
			licenses: this.licenses,
		});
		return this.#accounts;
	}

	get orgs(): Orgs {
		this.#orgs ??= new Orgs({
			db: this.db,
			config: this.config,
			meta: this.meta,
			mailer: this.mailer,
			licenses: this.licenses,
			defer: this.defer,
			now,
		});
		return this.#orgs;
	}

	get ci(): CiService {
		this.#ci ??= ciService({ db: this.db, config: this.config, meta: this.meta });
		return this.#ci;
	}

	get sso(): SsoAdmin {
		const doh = this.config.settings.DNS_OVER_HTTPS_URL;
		const local = this.#runtime.txtResolver;
		this.#sso ??= ssoAdmin({
			db: this.db,
			config: this.config,
			meta: this.meta,
			resolver: doh || !local ? dohResolver(doh ?? DEFAULT_DOH_URL) : local,
			now,
		});
		return this.#sso;
	}

	get ssoLogin(): SsoLogin {
		this.#ssoLogin ??= ssoLogin({
			db: this.db,
			config: this.config,
			meta: this.meta,
			licenses: this.licenses,
			now,
		});
		return this.#ssoLogin;
	}

	get webhookEndpoints(): WebhookEndpointService {
		this.#webhookEndpoints ??= webhookEndpointService({
			db: this.db,
			meta: this.meta,
			policy:
				this.#resolved.webhookUrlPolicy ?? this.#runtime.webhookUrlPolicy ?? PRODUCTION_POLICY,
			secrets: endpointSecrets(this.config.settings.LICENSE_KEY_PEPPER),
			now,
		});
		return this.#webhookEndpoints;
	}

	get billing(): Billing {
		this.#billing ??= billing({
			db: this.db,
			config: this.config,
			meta: this.meta,
			requestId: this.#requestId,
		});
		return this.#billing;
	}
}
