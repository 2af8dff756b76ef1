/** GET /openapi.json and GET /docs as served by the Worker (SPEC §3.1). */
import { describe, expect, it } from "vitest";
import { call } from "../support/worker-client";

describe("GET /openapi.json", () => {
	it("serves the OpenAPI 3.1 document for this deployment", async () => {
		const res = await call<{
			openapi: string;
			servers: Array<{ url: string }>;
			paths: Record<string, unknown>;
		}>("/openapi.json");
		expect(res.status, res.text).toBe(200);
		expect(res.headers.get("content-type")).toContain("application/json");
		expect(res.body.openapi).toBe("3.1.0");
		expect(res.body.servers).toEqual([{ url: "http://license.test" }]);
		expect(Object.keys(res.body.paths)).toEqual(
			expect.arrayContaining(["/api/v1/licenses/activate", "/api/v1/admin/metrics", "/docs"]),
		);
		expect(res.headers.get("content-security-policy")).toBe(
			"default-src 'none'; frame-ancestors 'none'",
		);
	});
});

describe("GET /docs", () => {
	it("is a small page loading the pinned API reference script with its integrity hash", async () => {
		const res = await call("/docs");
		expect(res.status, res.text).toBe(200);
		expect(res.headers.get("content-type")).toContain("text/html");
		expect(res.text).toContain('data-url="/openapi.json"');
		const script = res.text.match(/<script src="([^"]+)" integrity="(sha384-[^"]+)"/);
		expect(script?.[1]).toMatch(
			/^https:\/\/cdn\.jsdelivr\.net\/npm\/@scalar\/api-reference@\d+\.\d+\.\d+\/dist\/browser\/standalone\.js$/,
		);
		expect(res.text.length).toBeLessThan(2048);
	});

	it("allows exactly that script, inline styles and this origin, and keeps the other headers", async () => {
		const res = await call("/docs");
		const csp = res.headers.get("content-security-policy") ?? "";
		const script = res.text.match(/<script src="([^"]+)"/)?.[1];
		expect(csp).toContain("default-src 'none'");
		expect(csp).toContain(`script-src ${script};`);
		expect(csp).toContain("connect-src 'self'");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).not.toMatch(/'unsafe-eval'|script-src[^;]*'unsafe-inline'|\*/);
		expect(res.headers.get("x-frame-options")).toBe("DENY");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
	});
});
