/** GET /openapi.json, GET /docs and the page's scripts as served by the Worker (docs/api.md §3.1). */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/worker-client";

/** Raw bytes, for the integrity hash (call() decodes the body as text). */
async function fetchBytes(path: string, headers: Record<string, string> = {}) {
	const res = await (exports as unknown as { default: Fetcher }).default.fetch(
		new Request(`http://license.test${path}`, { headers }),
	);
	return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function sri(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
	return `sha384-${btoa(String.fromCharCode(...digest))}`;
}

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
	it("is a small page whose scripts all come from this origin, with a visible link to the document", async () => {
		const res = await call("/docs");
		expect(res.status, res.text).toBe(200);
		expect(res.headers.get("content-type")).toContain("text/html");
		const scripts = [...res.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
		expect(scripts).toHaveLength(2);
		for (const tag of scripts) expect(tag).toMatch(/ src="\/docs\/[a-z0-9.-]+\.js"/);
		// Outside <noscript>: shown whenever the scripts fail, not only with scripting off.
		expect(res.text).not.toContain("<noscript");
		expect(res.text).toMatch(/<p id="docs-fallback"[^>]*>[^<]*<a href="\/openapi.json">/);
		expect(res.text.length).toBeLessThan(2048);
	});

	it("allows scripts from this origin only, inline styles, and keeps the other headers", async () => {
		const res = await call("/docs");
		const csp = res.headers.get("content-security-policy") ?? "";
		expect(csp).toContain("default-src 'none'");
		expect(csp).toContain("script-src 'self';");
		expect(csp).toContain("connect-src 'self'");
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).not.toMatch(/'unsafe-eval'|script-src[^;]*'unsafe-inline'|\*|https?:/);
		expect(res.headers.get("x-frame-options")).toBe("DENY");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
	});
});

describe("the page's scripts", () => {
	it("serves Scalar's bundle from the static assets, matching the page's integrity hash", async () => {
		const page = await call("/docs");
		const [, src, integrity] =
			page.text.match(/<script src="([^"]+)" integrity="(sha384-[^"]+)"/) ?? [];
		expect(src).toMatch(/^\/docs\/scalar-api-reference-\d+\.\d+\.\d+\.js$/);
		const { res, bytes } = await fetchBytes(src ?? "");
		expect(res.status).toBe(200);
		expect(bytes.length).toBeGreaterThan(1_000_000);
		expect(await sri(bytes)).toBe(integrity);
		expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
		expect(res.headers.get("strict-transport-security")).toContain("max-age=31536000");
	});

	it("answers a revalidation with 304", async () => {
		const page = await call("/docs");
		const src = page.text.match(/<script src="(\/docs\/scalar[^"]+)"/)?.[1] ?? "";
		const first = await fetchBytes(src);
		const etag = first.res.headers.get("etag");
		expect(etag).toBeTruthy();
		const again = await fetchBytes(src, { "if-none-match": etag ?? "" });
		expect(again.res.status).toBe(304);
	});

	it("serves the start-up script, which configures the viewer to keep the document here", async () => {
		const res = await call("/docs/init.js");
		expect(res.status, res.text).toBe(200);
		expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(res.text).toContain("createApiReference");
		expect(res.text).toContain('"agent":{"disabled":true}');
		expect(res.text).toContain('"mcp":{"disabled":true}');
		expect(res.text).toContain('"showDeveloperTools":"never"');
	});

	it("answers 404 with the error body for any other script, an old version's included", async () => {
		for (const path of ["/docs/scalar-api-reference-1.0.0.js", "/docs/other.js"]) {
			const res = await call<{ error: { code: string } }>(path);
			expect(res.status, path).toBe(404);
			expect(res.body.error.code).toBe("NOT_FOUND");
		}
	});
});
