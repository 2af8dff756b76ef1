import { Hono } from "hono";
import { html } from "hono/html";
import { type JsonObject, openApiDocument } from "../openapi/document";
import type { AppEnv } from "../services";

/**
 * Scalar's API reference, from a pinned CDN file checked by Subresource Integrity: the page
 * costs the Worker a few hundred bytes instead of a 4 MB bundle. Bump all three together
 * (`npm pack @scalar/api-reference@X`, then `openssl dgst -sha384 -binary
 * package/dist/browser/standalone.js | openssl base64 -A`).
 */
const SCALAR_VERSION = "1.72.1";
const SCALAR_URL = `https://cdn.jsdelivr.net/npm/@scalar/api-reference@${SCALAR_VERSION}/dist/browser/standalone.js`;
const SCALAR_SRI = "sha384-U11tb2XnKvmwt8RlTvnwUnYgrN+ur4Xyh9htLhjajWNR/Oyl5AX5DEz00qRmlrmK";

/**
 * Exactly what the page needs: that one script, the styles Scalar injects, the document from
 * this origin. Fonts stay local (withDefaultFonts: false) and "try it" can only reach this API.
 */
export const DOCS_CSP = [
	"default-src 'none'",
	`script-src ${SCALAR_URL}`,
	"style-src 'unsafe-inline'",
	"img-src 'self' data:",
	"font-src 'self' data:",
	"connect-src 'self'",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
].join("; ");

const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CODITECT License API</title>
</head>
<body>
<noscript>The API reference needs JavaScript; the raw document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script id="api-reference" data-url="/openapi.json" data-configuration='{"withDefaultFonts":false,"hideClientButton":false}'></script>
<script src="${SCALAR_URL}" integrity="${SCALAR_SRI}" crossorigin="anonymous"></script>
</body>
</html>`;

/**
 * GET /openapi.json and GET /docs (SPEC §3.1). `app` is the whole application: the document
 * describes what it serves, read when first asked (every route is mounted by then).
 */
export function docsRoutes(app: Hono<AppEnv>): Hono<AppEnv> {
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
		});
}
