/**
 * The Node entry's request log: a line per request into the server's log, JSON for
 * collectors or a short line for a terminal, LOG_REQUESTS=false for none; never the query,
 * a body, a key or a token.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { type RunningServer, type StartOptions, startServer } from "../../src/server";
import { createLicense, hardwareId, http } from "./support";

const servers: RunningServer[] = [];
afterEach(async () => {
	for (const s of servers.splice(0)) await s.close();
});

async function serverLogging(
	opts: Pick<StartOptions, "requestLogFormat"> & { env?: Record<string, string> },
): Promise<{ server: RunningServer; lines: string[] }> {
	const lines: string[] = [];
	const server = await startServer({
		port: 0,
		dataDir: null,
		log: (l) => lines.push(l),
		...(opts.requestLogFormat ? { requestLogFormat: opts.requestLogFormat } : {}),
		env: {
			DATABASE_URL: inject("databaseUrl"),
			// No webhook runs from this server: test/node/webhooks.test.ts runs its own.
			WEBHOOK_DELIVERY_SECONDS: "0",
			DATABASE_POOL_MAX: "2",
			LICENSE_SIGNING_KEY: inject("signingKey"),
			LICENSE_KEY_PEPPER: inject("pepper"),
			JWT_SECRET: inject("jwtSecret"),
			ADMIN_TOKEN: inject("adminToken"),
			...opts.env,
		},
	});
	servers.push(server);
	return { server, lines };
}

const requestLines = (lines: string[]) => lines.filter((l) => /validate|healthz|"request"/.test(l));

describe("the Node request log", () => {
	it("writes one JSON line per validate, without the key or hardware id", async () => {
		const { server, lines } = await serverLogging({ requestLogFormat: "json" });
		const { key } = await createLicense(server.url);
		const hw = hardwareId("request-log");
		lines.length = 0;
		const res = await http(`${server.url}/api/v1/licenses/validate`, {
			json: { license_key: key, hardware_id: hw },
		});
		expect(res.status, res.text).toBe(200);
		const logged = requestLines(lines);
		expect(logged).toHaveLength(1);
		expect(JSON.parse(logged[0] ?? "")).toEqual({
			time: expect.any(Number),
			msg: "request",
			method: "POST",
			route: "/api/v1/licenses/validate",
			status: 200,
			ms: expect.any(Number),
			request_id: res.headers["x-request-id"],
		});
		expect(logged[0]).not.toContain(key);
		expect(logged[0]).not.toContain(hw);
	});

	it("writes a short human line for a terminal, with the pattern and never the query", async () => {
		const { server, lines } = await serverLogging({ requestLogFormat: "text" });
		const res = await http(`${server.url}/healthz?token=hunter2`);
		expect(res.status).toBe(200);
		expect(requestLines(lines)).toEqual([
			expect.stringMatching(/^GET \/healthz 200 \d+(\.\d)?ms req_[a-z0-9]+$/),
		]);
		expect(lines.join("\n")).not.toContain("hunter2");
	});

	it("writes nothing with LOG_REQUESTS=false, and refuses a value that is not true or false", async () => {
		const { server, lines } = await serverLogging({ env: { LOG_REQUESTS: "false" } });
		await http(`${server.url}/healthz`);
		expect(requestLines(lines)).toEqual([]);
		await expect(serverLogging({ env: { LOG_REQUESTS: "yes" } })).rejects.toThrow(
			/invalid settings: LOG_REQUESTS/,
		);
	});
});
