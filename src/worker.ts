/**
 * Cloudflare Workers entry: env parsed with zod, a database client per request (through the
 * cache-disabled Hyperdrive config), the retention cron, and the rate limiter's Durable Object.
 */
import argon2Wasm from "argon2-wasm-edge/wasm/argon2.wasm";
import { passwordHasher } from "./accounts/password";
import { newApp } from "./app";
import { purgeAuditLogs } from "./audit/retention";
import { buildConfig, type Config } from "./config";
import { createDb, createSql } from "./db/client";
import { settingsFrom, WorkerEnvSchema } from "./env";
import { apiError } from "./errors";
import type { Runtime } from "./services";
import { drainOutbox, urlPolicyFor } from "./webhooks/schedule";
import { endpointSecrets } from "./webhooks/secrets";
import { PRODUCTION_POLICY, type UrlPolicy } from "./webhooks/ssrf";
import { argon2idWasm } from "./workers/argon2-wasm";
import { durableObjectRateLimiter, type RateLimiterObject } from "./workers/rate-limiter-object";

/** Where scripts/docs-assets.mjs puts Scalar's bundle in the `[assets]` directory. */
const DOCS_BUNDLE_ASSET = "/scalar-api-reference.js";

export { RateLimiterObject } from "./workers/rate-limiter-object";

interface Resolved {
	config: Config;
	env: ReturnType<typeof WorkerEnvSchema.parse>;
}

// The env object is stable within an isolate: parse it and import keys once, not per request.
const resolved = new WeakMap<object, Promise<Resolved | null>>();

function resolveEnv(env: object): Promise<Resolved | null> {
	let pending = resolved.get(env);
	if (!pending) {
		pending = (async () => {
			const parsed = WorkerEnvSchema.safeParse(settingsFrom(env as Record<string, unknown>));
			if (!parsed.success) {
				// Names only: values may be secrets.
				const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
				console.error(`MISCONFIGURED: missing or invalid settings: ${names.join(", ")}`);
				return null;
			}
			try {
				return { config: await buildConfig(parsed.data), env: parsed.data };
			} catch (err) {
				console.error(`MISCONFIGURED: ${err instanceof Error ? err.message : "key import failed"}`);
				return null;
			}
		})();
		resolved.set(env, pending);
	}
	return pending;
}

/**
 * The webhook URL rules, for registering and for the cron alike. WEBHOOK_DEV_URLS (http and
 * loopback receivers) counts only while PUBLIC_URL is http: — `wrangler dev` and the tests; a
 * deployment is served over https, so there it is production rules whatever the setting.
 */
function workerUrlPolicy(env: Resolved["env"]): UrlPolicy {
	return new URL(env.PUBLIC_URL).protocol === "http:"
		? urlPolicyFor(env.WEBHOOK_DEV_URLS)
		: PRODUCTION_POLICY;
}

// Workers Logs indexes JSON fields; LOG_REQUESTS=false turns the line off (default on).
const jsonConsole = { json: true, write: (line: string) => console.log(line) };

const runtime: Runtime = {
	async resolve(c) {
		const r = await resolveEnv(c.env);
		if (!r) throw apiError("MISCONFIGURED");
		// Per request: postgres.js sockets cannot be shared across requests in workerd.
		// The cached-read client is only built when a route asks for it (the dashboard).
		const client = (url: string) =>
			createDb(createSql(url, { max: 5, connectTimeout: 5, serverTimeouts: false }));
		const limiter = durableObjectRateLimiter(
			r.env.RATE_LIMITER as DurableObjectNamespace<RateLimiterObject>,
		);
		return {
			config: r.config,
			db: client(r.env.HYPERDRIVE_FRESH.connectionString),
			cachedDb: () => client(r.env.HYPERDRIVE.connectionString),
			limiter,
			webhookUrlPolicy: workerUrlPolicy(r.env),
		};
	},
	clientIp: (c) => c.req.header("cf-connecting-ip") ?? null,
	defer: (c, work) => c.executionCtx.waitUntil(work),
	// Imported as a compiled module: workerd refuses to compile WASM from bytes at run time.
	passwords: passwordHasher(argon2idWasm(argon2Wasm)),
	async docsBundle(c) {
		const assets = c.env.ASSETS as Fetcher | undefined;
		if (!assets) return null;
		// The original request's headers come along, so If-None-Match still gets its 304.
		const res = await assets.fetch(new Request(new URL(DOCS_BUNDLE_ASSET, c.req.url), c.req.raw));
		return res.ok || res.status === 304 ? res : null;
	},
	requestLog: (c) => (c.env.LOG_REQUESTS === "false" ? null : jsonConsole),
};

const app = newApp(runtime);

/** wrangler.toml's one-minute cron: the webhook outbox. The other (daily) is audit retention. */
const WEBHOOK_CRON = "* * * * *";

export default {
	fetch: app.fetch,
	async scheduled(controller, env, ctx) {
		const r = await resolveEnv(env);
		if (!r) return;
		const db = createDb(
			createSql(r.env.HYPERDRIVE_FRESH.connectionString, { max: 1, serverTimeouts: false }),
		);
		if (controller.cron === WEBHOOK_CRON) {
			ctx.waitUntil(
				drainOutbox(db, workerUrlPolicy(r.env), endpointSecrets(r.env.LICENSE_KEY_PEPPER)).then(
					(n) => {
						if (n > 0) console.log(`webhooks: delivered ${n}`);
					},
					(err: unknown) => {
						console.error("webhook delivery failed:", err instanceof Error ? err.message : err);
						throw new Error("webhook delivery failed");
					},
				),
			);
			return;
		}
		ctx.waitUntil(
			purgeAuditLogs(db, r.env.AUDIT_RETENTION_DAYS).then(
				(n) => console.log(`audit retention: deleted ${n} rows`),
				(err: unknown) => {
					// The message only (a driver error's other fields may carry connection details);
					// rethrown bare so the cron run still shows as failed.
					console.error("audit retention failed:", err instanceof Error ? err.message : err);
					throw new Error("audit retention failed");
				},
			),
		);
	},
} satisfies ExportedHandler<Record<string, unknown>>;
