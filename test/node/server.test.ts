/**
 * The Node entry (`startServer`, what `npm start` and self-hosted installs run) as a real
 * server on a loopback port against the run's database: the client address is the socket's,
 * the in-process limiter holds the §3.6 limits, every answer has the headers, and audit rows
 * past the retention go (at start and on the timer), never younger than 90 days.
 */
import { request } from "node:http";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { purgeAuditLogs, scheduleAuditRetention } from "../../src/audit/retention";
import { createDb, createSql } from "../../src/db/client";
import type { RunningServer } from "../../src/server";
import {
	type Answer,
	expectErrorBody,
	expectSafe,
	expectSecurityHeaders,
} from "../support/route-checks";
import { nodeServer } from "./support";

let server: RunningServer;
let sql: postgres.Sql;

/** Rows aged `days` days, by age; inserted with ids nobody else uses. */
async function agedRows(days: number[]): Promise<Map<number, string>> {
	const ids = new Map(days.map((d) => [d, `aud_node_${d}_${crypto.randomUUID()}`]));
	for (const [d, id] of ids) {
		await sql`insert into audit_logs (id, at, action, result)
			values (${id}, now() - make_interval(days => ${d}::int), 'retention_probe', 'old')`;
	}
	return ids;
}
async function surviving(ids: Map<number, string>): Promise<number[]> {
	const rows = await sql<
		{ id: string }[]
	>`select id from audit_logs where id in ${sql([...ids.values()])}`;
	const kept = new Set(rows.map((r) => r.id));
	return [...ids].filter(([, id]) => kept.has(id)).map(([d]) => d);
}
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
	const until = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > until) throw new Error("condition not met in time");
		await new Promise((r) => setTimeout(r, 50));
	}
}

let oldRows: Map<number, string>;

beforeAll(async () => {
	sql = postgres(inject("databaseUrl"), { max: 2, onnotice: () => {} });
	oldRows = await agedRows([91, 89]);
	server = await nodeServer({
		env: { DATABASE_POOL_MAX: "4", PUBLIC_URL: "http://license.test", AUDIT_RETENTION_DAYS: "90" },
	});
}, 30_000);

afterAll(async () => {
	await server?.close();
	await sql?.end({ timeout: 2 });
});

/** One HTTP request from a chosen local address (127.0.0.x are all loopback on Linux). */
function send(
	method: string,
	path: string,
	opts: { body?: string; headers?: Record<string, string>; from?: string } = {},
): Promise<Answer> {
	const url = new URL(path, server.url);
	return new Promise((resolve, reject) => {
		const req = request(
			url,
			{ method, headers: opts.headers, localAddress: opts.from ?? "127.0.0.1" },
			(res) => {
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.on("end", () => {
					const headers = new Headers();
					for (const [k, v] of Object.entries(res.headers)) {
						if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
					}
					resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString() });
				});
			},
		);
		req.on("error", reject);
		if (opts.body !== undefined) req.write(opts.body);
		req.end();
	});
}

const json = { "content-type": "application/json" };
const login = (ua: string, headers: Record<string, string> = {}, from?: string) =>
	send("POST", "/api/v1/auth/login", {
		body: JSON.stringify({
			email: `nobody-${crypto.randomUUID()}@example.test`,
			password: "whatever pw",
		}),
		headers: { ...json, "user-agent": ua, ...headers },
		...(from ? { from } : {}),
	});

describe("the Node server", () => {
	it("limits logins to 5 a minute per socket address, whatever X-Forwarded-For says, and audits that address", async () => {
		const ua = `node-limits/${crypto.randomUUID()}`;
		const statuses: number[] = [];
		for (let i = 0; i < 6; i++) {
			const res = await login(ua, {
				"x-forwarded-for": `198.51.100.${i + 1}`,
				"cf-connecting-ip": `192.0.2.${i + 1}`,
			});
			statuses.push(res.status);
			if (res.status === 429) {
				expectErrorBody(res, 429, "RATE_LIMITED");
				expectSecurityHeaders(res, "/api/v1/auth/login");
				expect(res.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
			}
		}
		expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
		// Another socket address is another client.
		expect((await login(ua, {}, "127.0.0.2")).status).toBe(401);

		const rows = await sql<{ ip: string }[]>`select ip from audit_logs where user_agent = ${ua}`;
		expect(rows.map((r) => r.ip).sort()).toEqual([
			"127.0.0.1",
			"127.0.0.1",
			"127.0.0.1",
			"127.0.0.1",
			"127.0.0.1",
			"127.0.0.2",
		]);
	});

	it("limits signups to 3 a minute per socket address", async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 4; i++) {
			const res = await send("POST", "/api/v1/auth/signup", {
				body: JSON.stringify({ email: "not-an-email", password: "whatever pw" }),
				headers: { ...json, "x-forwarded-for": `198.51.100.${i + 1}` },
				from: "127.0.0.3",
			});
			statuses.push(res.status);
		}
		expect(statuses).toEqual([400, 400, 400, 429]);
	});

	it("answers 2xx, 4xx, 404, 405, 413 and 415 with the security headers", async () => {
		const validate = "/api/v1/licenses/validate";
		const answers: Array<[string, Answer, number]> = [
			["/healthz", await send("GET", "/healthz"), 200],
			["/.well-known/jwks.json", await send("GET", "/.well-known/jwks.json"), 200],
			["/nope", await send("GET", "/nope"), 404],
			["/healthz", await send("PATCH", "/healthz"), 405],
			[validate, await send("POST", validate, { body: "{", headers: json }), 400],
			[
				validate,
				await send("POST", validate, { body: "{}", headers: { "content-type": "text/plain" } }),
				415,
			],
			[
				validate,
				await send("POST", validate, {
					body: JSON.stringify({ pad: "x".repeat(20_000) }),
					headers: { ...json, "transfer-encoding": "chunked" },
				}),
				413,
			],
			[
				validate,
				await send("POST", validate, {
					body: JSON.stringify({ pad: "x".repeat(20_000) }),
					headers: { ...json, "content-length": "20010" },
				}),
				413,
			],
		];
		for (const [path, res, status] of answers) {
			expect(res.status, `${path}: ${res.text}`).toBe(status);
			expectSafe(res, path);
		}
	});

	it("purges audit rows past the retention when it starts, keeping any younger than 90 days", async () => {
		await eventually(async () => !(await surviving(oldRows)).includes(91));
		expect(await surviving(oldRows)).toEqual([89]);
	});
});

describe("a Node server behind its own proxy (TRUSTED_PROXIES)", () => {
	let behind: RunningServer;
	beforeAll(async () => {
		// 127.0.0.21 plays the proxy; any other loopback address is a direct client.
		behind = await nodeServer({ env: { DATABASE_POOL_MAX: "2", TRUSTED_PROXIES: "127.0.0.21" } });
	}, 30_000);
	afterAll(async () => {
		await behind?.close();
	});
	const loginVia = (from: string, forwardedFor: string, ua: string) =>
		send("POST", `${behind.url}/api/v1/auth/login`, {
			body: JSON.stringify({
				email: `nobody-${crypto.randomUUID()}@example.test`,
				password: "pw pw pw",
			}),
			headers: { ...json, "user-agent": ua, "x-forwarded-for": forwardedFor },
			from,
		});

	it("counts and audits each client by the address the proxy appended, not the proxy's", async () => {
		const ua = `node-proxy/${crypto.randomUUID()}`;
		const statuses: number[] = [];
		// Six clients through the proxy, one login each, each faking a shared left-most entry.
		for (let i = 0; i < 6; i++) {
			statuses.push((await loginVia("127.0.0.21", `6.6.6.6, 198.51.100.${i + 1}`, ua)).status);
		}
		expect(statuses).toEqual(Array(6).fill(401));
		const rows = await sql<{ ip: string }[]>`
			select ip from audit_logs where user_agent = ${ua} order by ip`;
		expect(rows.map((r) => r.ip)).toEqual(
			Array.from({ length: 6 }, (_, i) => `198.51.100.${i + 1}`).sort(),
		);
		// One client through the proxy: its sixth login is limited.
		const one: number[] = [];
		for (let i = 0; i < 6; i++)
			one.push((await loginVia("127.0.0.21", "198.51.100.77", ua)).status);
		expect(one).toEqual([401, 401, 401, 401, 401, 429]);
	});

	it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
		const ua = `node-direct/${crypto.randomUUID()}`;
		const statuses: number[] = [];
		for (let i = 0; i < 6; i++) {
			statuses.push((await loginVia("127.0.0.22", `198.51.100.${100 + i}`, ua)).status);
		}
		expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
		const rows = await sql<
			{ ip: string }[]
		>`select distinct ip from audit_logs where user_agent = ${ua}`;
		expect(rows.map((r) => r.ip)).toEqual(["127.0.0.22"]);
	});

	it("refuses to start with a malformed TRUSTED_PROXIES", async () => {
		await expect(nodeServer({ env: { TRUSTED_PROXIES: "nginx" } })).rejects.toThrow(
			/TRUSTED_PROXIES/,
		);
	});
});

describe("audit retention on Node", () => {
	it("never deletes a row younger than 90 days, whatever retention it is given", async () => {
		const db = createDb(createSql(inject("databaseUrl"), { max: 1 }));
		try {
			const ids = await agedRows([120, 91, 89, 30]);
			await purgeAuditLogs(db, Number.NaN);
			await purgeAuditLogs(db, Number.POSITIVE_INFINITY);
			expect(await surviving(ids)).toEqual([120, 91, 89, 30]);
			await purgeAuditLogs(db, 100);
			expect(await surviving(ids)).toEqual([91, 89, 30]);
			await purgeAuditLogs(db, 30);
			await purgeAuditLogs(db, 0);
			await purgeAuditLogs(db, -5);
			expect(await surviving(ids)).toEqual([89, 30]);
		} finally {
			await db.$client.end({ timeout: 2 });
		}
	});

	it("runs again on its timer", async () => {
		const db = createDb(createSql(inject("databaseUrl"), { max: 1 }));
		const stop = scheduleAuditRetention(db, 90, { everyMs: 100, log: () => {} });
		try {
			await new Promise((r) => setTimeout(r, 150));
			const ids = await agedRows([95]);
			await eventually(async () => (await surviving(ids)).length === 0);
		} finally {
			stop();
			await db.$client.end({ timeout: 2 });
		}
	});
});
