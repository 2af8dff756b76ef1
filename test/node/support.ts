/**
 * The Node entry (`startServer`, postgres.js pool) on the run's database, called over real
 * HTTP. Requests can leave from any 127.x.y.z address, so per-address limits see distinct
 * clients without a proxy header (the Node server trusts only the socket address).
 */
import { createHmac } from "node:crypto";
import { Agent, request } from "node:http";
import postgres from "postgres";
import { inject } from "vitest";
import { type RunningServer, startServer } from "../../src/server";

export interface HttpResponse<T = Record<string, unknown>> {
	status: number;
	headers: Record<string, string | string[] | undefined>;
	body: T;
	text: string;
	ms: number;
}

export const isRealPostgres = inject("databaseKind") === "postgres";

/** Starts the Node server on `databaseUrl` (default: the run's database) with the run's secrets. */
export async function nodeServer(
	opts: { databaseUrl?: string; env?: Record<string, string> } = {},
): Promise<RunningServer> {
	return startServer({
		port: 0,
		dataDir: null,
		log: () => {},
		env: {
			DATABASE_URL: opts.databaseUrl ?? inject("databaseUrl"),
			DATABASE_POOL_MAX: "10",
			LICENSE_SIGNING_KEY: inject("signingKey"),
			LICENSE_KEY_PEPPER: inject("pepper"),
			JWT_SECRET: inject("jwtSecret"),
			ADMIN_TOKEN: inject("adminToken"),
			NODE_ENV: "production",
			// Each test file runs the webhook outbox itself: no server may claim its rows meanwhile.
			WEBHOOK_DELIVERY_SECONDS: "0",
			// Mail goes to the run's fake Resend instead of the test log.
			RESEND_API_KEY: inject("resendApiKey"),
			RESEND_API_BASE: inject("oauthIssuer"),
			...opts.env,
		},
	});
}

const agents = new Map<string, Agent>();
function agentFor(localAddress: string): Agent {
	let agent = agents.get(localAddress);
	if (!agent) {
		agent = new Agent({ keepAlive: true, localAddress });
		agents.set(localAddress, agent);
	}
	return agent;
}

export function closeAgents(): void {
	for (const agent of agents.values()) agent.destroy();
	agents.clear();
}

/** One HTTP request; `from` is the client's loopback address (127.0.0.1 unless given). */
export function http<T = Record<string, unknown>>(
	url: string,
	opts: {
		method?: string;
		json?: unknown;
		headers?: Record<string, string>;
		from?: string;
		admin?: boolean;
	} = {},
): Promise<HttpResponse<T>> {
	const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
	const headers: Record<string, string> = { ...opts.headers };
	if (body !== undefined) headers["content-type"] = "application/json";
	if (opts.admin) headers.authorization = `Bearer ${inject("adminToken")}`;
	const started = performance.now();
	return new Promise((ok, fail) => {
		const req = request(
			url,
			{
				method: opts.method ?? (body === undefined ? "GET" : "POST"),
				headers,
				agent: agentFor(opts.from ?? "127.0.0.1"),
			},
			(res) => {
				let text = "";
				res.setEncoding("utf8");
				res.on("data", (chunk: string) => {
					text += chunk;
				});
				res.on("end", () => {
					let parsed: unknown = null;
					try {
						parsed = JSON.parse(text);
					} catch {}
					ok({
						status: res.statusCode ?? 0,
						headers: res.headers,
						body: parsed as T,
						text,
						ms: performance.now() - started,
					});
				});
				res.on("error", fail);
			},
		);
		req.on("error", fail);
		req.end(body);
	});
}

export function hardwareId(label: string): string {
	return createHmac("sha256", "hw").update(label).digest("hex");
}

export async function createLicense(
	baseUrl: string,
	fields: Record<string, unknown> = {},
): Promise<{ key: string; id: string }> {
	const res = await http<{ license_key: string; license: { id: string } }>(
		`${baseUrl}/api/v1/admin/licenses`,
		{ json: { plan: "professional", ...fields }, admin: true },
	);
	if (res.status !== 201) throw new Error(`create license failed: ${res.status} ${res.text}`);
	return { key: res.body.license_key, id: res.body.license.id };
}

/** A direct connection to the run's database, for what no route shows. */
export function testSql(url = inject("databaseUrl")): postgres.Sql {
	return postgres(url, { max: 2, fetch_types: false, onnotice: () => {} });
}

/** The hash a verification code is stored under (as src/accounts/service.ts computes it). */
export function verificationCodeHash(email: string, code: string): string {
	return createHmac("sha256", inject("pepper"))
		.update(`verification-code\u0000${email}\u0000${code}`)
		.digest("hex");
}

/** A distinct loopback client address per index (127.1.x.y). */
export function clientAddress(i: number): string {
	return `127.1.${(i >> 8) & 255}.${(i & 255) + 1}`;
}
