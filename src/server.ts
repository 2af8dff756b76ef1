/**
 * Node entry: `npm start` and self-hosted installs. The same app as the Worker, on a pooled
 * Postgres from DATABASE_URL or, without one, an embedded database under `.data/`.
 */
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { mailerFor } from "./accounts/mailer";
import { passwordHasher } from "./accounts/password";
import { newApp } from "./app";
import { scheduleAuditRetention } from "./audit/retention";
import { buildConfig } from "./config";
import { type Settings, SettingsSchema, settingsFrom } from "./env";
import { argon2idNative } from "./node/argon2";
import { clientAddress, trustedProxies } from "./node/client-address";
import { openDatabase } from "./node/database";
import { devSecrets } from "./node/dev-settings";
import { nodeDocsBundle } from "./node/docs-bundle";
import { nodeCrypto } from "./node/native-crypto";
import { smtpConfigFrom, smtpMailer } from "./node/smtp-mailer";
import { nodeTxtResolver } from "./node/txt-resolver";
import { guardedWebhookFetch } from "./node/webhook-fetch";
import { memoryRateLimiter } from "./ratelimit/limiter";
import type { Runtime } from "./services";
import { scheduleWebhookDelivery, urlPolicyFor } from "./webhooks/schedule";
import { endpointSecrets } from "./webhooks/secrets";

export interface StartOptions {
	port?: number;
	host?: string;
	/** Settings source; defaults to process.env. */
	env?: Record<string, string | undefined>;
	/** Where the embedded database and dev secrets live; null = in memory, no dev files. */
	dataDir?: string | null;
	log?: (line: string) => void;
	/** Request lines as JSON or text; default JSON unless stdout is a terminal. */
	requestLogFormat?: "json" | "text";
}

export interface RunningServer {
	/** Where it listens. */
	url: string;
	/** PUBLIC_URL: what clients are told to use (the `iss` of its license tokens). */
	publicUrl: string;
	/** The operator token, only when it is a generated development one (safe to print). */
	devAdminToken: string | undefined;
	databaseUrl: string;
	embedded: boolean;
	close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
	const env = opts.env ?? process.env;
	const log = opts.log ?? ((line: string) => console.log(line));
	const dataDir = opts.dataDir === undefined ? resolve(".data") : opts.dataDir;
	const host = opts.host ?? env.HOST ?? "127.0.0.1";
	const port = opts.port ?? Number(env.PORT ?? 8787);

	const given = settingsFrom(env);
	given.PUBLIC_URL ??= `http://${host}:${port}`;
	const required = ["LICENSE_SIGNING_KEY", "LICENSE_KEY_PEPPER", "JWT_SECRET"];
	const missingSecrets = required.filter((k) => !given[k]);
	if (missingSecrets.length > 0) {
		if (env.NODE_ENV === "production" || !dataDir) {
			throw new Error(`missing settings: ${missingSecrets.join(", ")} (see README, Configuration)`);
		}
		// A development install also gets an operator token, so the README's first steps work.
		if (!given.ADMIN_TOKEN) missingSecrets.push("ADMIN_TOKEN");
		const { secrets, created } = await devSecrets(dataDir);
		for (const k of missingSecrets) given[k] = secrets[k as keyof typeof secrets];
		log(
			`${created ? "created" : "using"} development secrets in ${dataDir}/dev-secrets.json (${missingSecrets.join(", ")})`,
		);
	}
	const parsed = SettingsSchema.safeParse(given);
	if (!parsed.success) {
		const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
		throw new Error(`invalid settings: ${names.join(", ")}`);
	}
	const settings: Settings = parsed.data;
	if (settings.WEBHOOK_DEV_URLS === "true" && env.NODE_ENV === "production") {
		throw new Error("invalid settings: WEBHOOK_DEV_URLS is for development and tests only");
	}
	let proxies: ReturnType<typeof trustedProxies>;
	try {
		proxies = trustedProxies(env.TRUSTED_PROXIES);
	} catch (err) {
		throw new Error(`invalid settings: TRUSTED_PROXIES (${(err as Error).message})`);
	}
	// SMTP when configured (air-gapped installs), else Resend, else the log on loopback only.
	const smtp = smtpConfigFrom(env);
	const mailer = smtp ? smtpMailer(smtp, settings.MAIL_FROM) : mailerFor(settings, log);
	if (!mailer.verifiable) {
		// Refused at start rather than taking signups whose codes can never arrive.
		throw new Error(
			`no mail provider for PUBLIC_URL ${settings.PUBLIC_URL}: a server off loopback must send its signup codes. Set SMTP_URL (or SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS) or RESEND_API_KEY, and MAIL_FROM (see README, Configuration)`,
		);
	}
	const logRequests = env.LOG_REQUESTS || "true";
	if (logRequests !== "true" && logRequests !== "false") {
		throw new Error("invalid settings: LOG_REQUESTS (true or false)");
	}
	// JSON for collectors when stdout is a pipe or file; a short line for a person at a terminal.
	const requestSink = {
		json: (opts.requestLogFormat ?? (process.stdout.isTTY ? "text" : "json")) === "json",
		write: log,
	};
	const config = await buildConfig(settings, nodeCrypto);
	const database = await openDatabase({
		url: env.DATABASE_URL || undefined,
		dataDir: dataDir ? resolve(dataDir, "pglite") : null,
		max: Number(env.DATABASE_POOL_MAX ?? 20),
	});

	const limiter = memoryRateLimiter();
	const resolved = { config, db: database.db, limiter };
	const runtime: Runtime = {
		// One answer for every request: the same config, pool and limiter (no promise per request).
		resolve: () => resolved,
		clientIp: (c) => {
			let socket: string | null = null;
			try {
				socket = getConnInfo(c).remote.address ?? null;
			} catch {
				return null;
			}
			return clientAddress(socket, c.req.header("x-forwarded-for"), proxies);
		},
		defer: (_c, work) => {
			void work;
		},
		passwords: passwordHasher(argon2idNative),
		docsBundle: nodeDocsBundle,
		mailer,
		txtResolver: nodeTxtResolver,
		webhookUrlPolicy: urlPolicyFor(settings.WEBHOOK_DEV_URLS),
		...(logRequests === "true" ? { requestLog: () => requestSink } : {}),
	};
	const app = newApp(runtime);
	const server = serve({ fetch: app.fetch, port, hostname: host });
	await new Promise<void>((ok, fail) => {
		server.once("listening", ok);
		server.once("error", fail);
	});
	const address = server.address() as AddressInfo;
	const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;

	// The Worker's cron does this on Cloudflare; here a timer does (at start, then daily).
	const stopRetention = scheduleAuditRetention(database.db, settings.AUDIT_RETENTION_DAYS, { log });
	// Likewise the webhook outbox (the Worker runs it on a one-minute cron).
	const stopWebhooks =
		settings.WEBHOOK_DELIVERY_SECONDS > 0
			? scheduleWebhookDelivery(
					database.db,
					urlPolicyFor(settings.WEBHOOK_DEV_URLS),
					endpointSecrets(settings.LICENSE_KEY_PEPPER),
					{
						everyMs: settings.WEBHOOK_DELIVERY_SECONDS * 1000,
						// Resolves each name at connect time and refuses private answers (rebinding).
						fetch: guardedWebhookFetch(urlPolicyFor(settings.WEBHOOK_DEV_URLS)),
					},
				)
			: () => {};

	return {
		url,
		publicUrl: config.issuer,
		devAdminToken: missingSecrets.includes("ADMIN_TOKEN") ? settings.ADMIN_TOKEN : undefined,
		databaseUrl: database.url,
		embedded: database.embedded,
		async close() {
			stopRetention();
			stopWebhooks();
			await new Promise<void>((ok) => server.close(() => ok()));
			mailer.close?.();
			await database.close();
		},
	};
}

/**
 * What `npm start` prints: where it listens, the PUBLIC_URL clients must use (the CLI checks
 * a token's issuer against its API URL), and first steps that paste into a shell as they are
 * (no `<KEY>`: a shell reads `<` as a redirect).
 */
export function startBanner(running: RunningServer, readyMs: number): string {
	const db = running.embedded ? "embedded Postgres (.data/pglite)" : "DATABASE_URL";
	const token = running.devAdminToken ?? "$ADMIN_TOKEN";
	return `
CODITECT license server listening on ${running.url}  (${db}, ready in ${readyMs} ms)
  PUBLIC_URL ${running.publicUrl}  (token issuer; the CLI's CODITECT_API_URL)

  curl ${running.url}/healthz
  curl ${running.url}/.well-known/jwks.json
  # create a license as the operator (its key is shown once), then activate it with the CLI
  KEY=$(curl -s -X POST ${running.url}/api/v1/admin/licenses -H "authorization: Bearer ${token}" \\
       -H 'content-type: application/json' -d '{"plan":"professional"}' \\
       | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).license_key')
  CODITECT_API_URL=${running.publicUrl} npx coditect activate "$KEY"
`;
}

async function main(): Promise<void> {
	const started = Date.now();
	const running = await startServer();
	console.log(startBanner(running, Date.now() - started));
	const stop = async () => {
		await running.close();
		process.exit(0);
	};
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	main().catch((err: unknown) => {
		console.error(`could not start: ${err instanceof Error ? err.message : String(err)}`);
		process.exit(1);
	});
}
