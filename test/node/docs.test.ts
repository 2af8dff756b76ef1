/**
 * /docs on the Node entry, opened in headless Chromium as a person would: the reference renders
 * the operations from this origin alone (no CDN, no fonts, no telemetry), and when its scripts
 * cannot load the page still shows the link to the raw document.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server";
import { launchChromium, visitDocs } from "../support/browser";
import { nodeServer } from "./support";

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
	server = await nodeServer();
	browser = await launchChromium();
}, 60_000);

afterAll(async () => {
	await browser?.close();
	await server?.close();
});

describe("GET /docs on Node, in Chromium", () => {
	it("shows the operations and asks nothing of any other origin", async () => {
		const visit = await visitDocs(browser, server.url, {
			expand: ["Licenses"],
			waitFor: ["Liveness and database check", "Validate a license on a machine"],
		});
		expect(visit.outside).toEqual([]);
		expect(visit.problems).toEqual([]);
		expect(visit.fallbackVisible).toBe(false);
		// The buttons that would upload our document elsewhere are not there.
		for (const hidden of ["Ask AI", "Generate MCP", "Connect MCP", "Share", "Deploy"]) {
			expect(visit.text, hidden).not.toContain(hidden);
		}
	});

	it("still links to /openapi.json when its scripts cannot load", async () => {
		const visit = await visitDocs(browser, server.url, { blockScripts: true });
		expect(visit.outside).toEqual([]);
		expect(visit.fallbackVisible).toBe(true);
		expect(visit.text).toContain("/openapi.json");
	});
});

describe("the viewer's bundle on Node", () => {
	it("is the pinned file, gzipped for clients that accept it", async () => {
		const page = await fetch(`${server.url}/docs`).then((r) => r.text());
		const [, src, integrity] = page.match(/<script src="([^"]+)" integrity="(sha384-[^"]+)"/) ?? [];
		const plain = await fetch(`${server.url}${src}`, {
			headers: { "accept-encoding": "identity" },
		});
		expect(plain.status).toBe(200);
		expect(plain.headers.get("content-encoding")).toBeNull();
		const bytes = Buffer.from(await plain.arrayBuffer());
		expect(`sha384-${createHash("sha384").update(bytes).digest("base64")}`).toBe(integrity);

		// fetch() would decode gzip itself; node:http shows the wire.
		const { request } = await import("node:http");
		const wire = await new Promise<{ encoding?: string; body: Buffer }>((ok, fail) => {
			request(`${server.url}${src}`, { headers: { "accept-encoding": "gzip" } }, (res) => {
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.on("end", () =>
					ok({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }),
				);
			})
				.on("error", fail)
				.end();
		});
		expect(wire.encoding).toBe("gzip");
		expect(wire.body.length).toBeLessThan(bytes.length / 2);
		expect(gunzipSync(wire.body).equals(bytes)).toBe(true);
	});
});
