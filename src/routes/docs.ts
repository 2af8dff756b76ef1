import { Hono } from "hono";
import { html } from "hono/html";
import { apiError } from "../errors";
import { type JsonObject, openApiDocument } from "../openapi/document";
import type { AppEnv, Runtime } from "../services";

/**
 * Scalar's API reference, served from this origin so `/docs` works on an air-gapped install:
 * the browser bundle of the npm package `@scalar/api-reference` (a devDependency pinned to
 * exactly this version), a static asset on Workers (wrangler.toml `[assets]`, copied there by
 * scripts/docs-assets.mjs) and read from node_modules on Node. The integrity hash still pins
 * the bytes: bump the package, this version and the hash together
 * (`openssl dgst -sha384 -binary node_modules/@scalar/api-reference/dist/browser/standalone.js
 * | openssl base64 -A`); test/unit/docs-assets.test.ts fails until they agree.
 */
export const SCALAR_VERSION = "1.72.1";
export const SCALAR_SRI = "sha384-U11tb2XnKvmwt8RlTvnwUnYgrN+ur4Xyh9htLhjajWNR/Oyl5AX5DEz00qRmlrmK";
/** Versioned, so it can be cached for a year: a new version is a new URL. */
export const SCALAR_PATH = `/docs/scalar-api-reference-${SCALAR_VERSION}.js`;
const INIT_PATH = "/docs/init.js";

/**
 * The viewer's configuration. Everything that would send our document or the reader elsewhere
 * is off: the "Ask AI" agent and MCP generation (both upload the document to Scalar), the
 * developer toolbar (its Share and Deploy buttons do the same; it shows on localhost by
 * default, i.e. on every self-hosted install reached through a tunnel or proxy), telemetry,
 * and Scalar's default fonts from its CDN. Test requests stay: they can only reach this API.
 */
const SCALAR_CONFIGURATION = {
	url: "/openapi.json",
	withDefaultFonts: false,
	telemetry: false,
	showDeveloperTools: "never",
	agent: { disabled: true },
	mcp: { disabled: true },
	documentDownloadType: "json",
};

/**
 * A file rather than an inline script, so the CSP needs no `'unsafe-inline'` or hash for
 * scripts. Without the bundle (blocked, failed, not installed) it does nothing and the
 * page's fallback text stays.
 */
const INIT_SCRIPT = `"use strict";
if (window.Scalar && typeof window.Scalar.createApiReference === "function") {
	window.Scalar.createApiReference("#reference", ${JSON.stringify(SCALAR_CONFIGURATION)});
	document.getElementById("docs-fallback")?.remove();
}
`;

/**
 * Exactly what the page needs: scripts from this origin, the styles Scalar injects, the
 * document from this origin. "Try it" can only reach this API.
 */
export const DOCS_CSP = [
	"default-src 'none'",
	"script-src 'self'",
	"style-src 'unsafe-inline'",
	"img-src 'self' data:",
	"font-src 'self' data:",
	"connect-src 'self'",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
].join("; ");

// The fallback is ordinary content that the start-up script removes once the viewer mounts, not
// <noscript>: a <noscript> renders only when scripting is off altogether, never when a script
// fails to load, which is what happens on an air-gapped network or behind a strict proxy. It
// sits beside the mount point, not inside: Scalar would try to hydrate it as server output.
const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CODITECT License API</title>
</head>
<body>
<p id="docs-fallback" style="font-family: system-ui, sans-serif; margin: 2rem">Loading the API reference&hellip; If it does not appear, its script could not run here: the OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</p>
<div id="reference"></div>
<script src="${SCALAR_PATH}" integrity="${SCALAR_SRI}"></script>
<script src="${INIT_PATH}"></script>
</body>
</html>`;

/**
 * GET /openapi.json, GET /docs and the page's two scripts (docs/api.md §3.1). `app` is the whole
 * application: the document describes what it serves, read when first asked (every route is
 * mounted by then).
 */
export function docsRoutes(app: Hono<AppEnv>, runtime: Runtime): Hono<AppEnv> {
	let document: JsonObject | undefined;
	return new Hono<AppEnv>()
		.get("/openapi.json", (c) => {
			document ??= openApiDocument(app, c.get("services").config.settings.PUBLIC_URL);
			c.header("Cache-Control", "public, max-age=300");
			return c.json(document, 200);
		})
		.get("/docs", (c) => {
			c.header("Content-Security-Policy", DOCS_CSP);
			c.header("Cache-Control", "public, max-age=300");
			return c.html(page);
		})
		.get("/docs/:script{[a-z0-9.-]+\\.js}", async (c) => {
			const path = c.req.path;
			if (path === INIT_PATH) {
				c.header("Cache-Control", "public, max-age=300");
				return c.body(INIT_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8" });
			}
			const asset = path === SCALAR_PATH ? await runtime.docsBundle(c) : null;
			if (!asset) throw apiError("NOT_FOUND", "No route matches this path.");
			// A copy: a fetched Response's headers are immutable, and the security headers follow.
			const res = new Response(asset.body, { status: asset.status, headers: asset.headers });
			res.headers.set("Content-Type", "text/javascript; charset=utf-8");
			res.headers.set("Cache-Control", "public, max-age=31536000, immutable");
			return res;
		});
}
