/**
 * The Worker's request log: one JSON line per request (Workers Logs indexes the fields) with
 * the route pattern, never the path as sent, its query, a body, a key or a token.
 */
import { env as testEnv } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/worker";
import { createLicense, hardwareId } from "../support/worker-client";

type Env = Record<string, unknown>;
const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };

async function fetchWith(env: Env, path: string, init: RequestInit = {}): Promise<Response> {
	const res = await worker.fetch(
		new Request(`http://license.test${path}`, init),
		env,
		ctx as unknown as ExecutionContext,
	);
	await res.arrayBuffer();
	return res;
}

/** The request lines console.log received while `work` ran. */
async function linesDuring(work: () => Promise<void>): Promise<string[]> {
	const spy = vi.spyOn(console, "log").mockImplementation(() => {});
	try {
		await work();
		return spy.mock.calls.map((args) => String(args[0])).filter((l) => l.includes('"request"'));
	} finally {
		spy.mockRestore();
	}
}

afterEach(() => vi.restoreAllMocks());

describe("the request log", () => {
	const on = { ...(testEnv as unknown as Env), LOG_REQUESTS: "true" };

	it("writes one JSON line per request: method, route pattern, status, duration, request id", async () => {
		const { key } = await createLicense();
		const hw = hardwareId();
		let requestId = "";
		const lines = await linesDuring(async () => {
			const res = await fetchWith(on, "/api/v1/licenses/validate", {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ license_key: key, hardware_id: hw }),
			});
			expect(res.status).toBe(200);
			requestId = res.headers.get("x-request-id") ?? "";
		});
		expect(lines).toHaveLength(1);
		const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
		expect(line).toEqual({
			time: expect.any(Number),
			msg: "request",
			method: "POST",
			route: "/api/v1/licenses/validate",
			status: 200,
			ms: expect.any(Number),
			request_id: requestId,
		});
		expect(lines[0]).not.toContain(key);
		expect(lines[0]).not.toContain(hw);
	});

	it("logs the pattern, not the path or query, and marks requests no route served", async () => {
		const lines = await linesDuring(async () => {
			await fetchWith(on, "/api/v1/licenses/lic_secretish/keys?token=hunter2", {
				method: "POST",
				headers: { authorization: "Bearer not-a-token" },
			});
			await fetchWith(on, "/nowhere?api_key=hunter2");
		});
		expect(lines.map((l) => JSON.parse(l) as { route: string; status: number })).toMatchObject([
			{ route: "/api/v1/licenses/:id/keys", status: 401 },
			{ route: "-", status: 404 },
		]);
		for (const l of lines) {
			expect(l).not.toMatch(/hunter2|lic_secretish|not-a-token/);
		}
	});

	it("is off with LOG_REQUESTS=false", async () => {
		const lines = await linesDuring(async () => {
			await fetchWith({ ...on, LOG_REQUESTS: "false" }, "/healthz");
		});
		expect(lines).toEqual([]);
	});
});
