/**
 * `/docs` on Node: Scalar's browser bundle read from the installed npm package (the Worker
 * gets the same file as a static asset). Read and gzipped once, on first request: 4.3 MB
 * raw, about 1.2 MB gzipped, and @hono/node-server compresses nothing by itself.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Context } from "hono";
import type { AppEnv } from "../services";

interface Bundle {
	raw: Uint8Array<ArrayBuffer>;
	gzip: Uint8Array<ArrayBuffer>;
}

let loading: Promise<Bundle | null> | undefined;

/** The package's file, or null when it is not installed (a trimmed install). */
export function docsBundlePath(): string | null {
	try {
		// The package exports no subpath for the browser build; its main entry sits beside it.
		const main = createRequire(import.meta.url).resolve("@scalar/api-reference");
		return join(dirname(main), "browser", "standalone.js");
	} catch {
		return null;
	}
}

async function load(): Promise<Bundle | null> {
	const path = docsBundlePath();
	if (!path) return null;
	try {
		const raw = new Uint8Array(await readFile(path));
		return { raw, gzip: new Uint8Array(gzipSync(raw)) };
	} catch {
		return null;
	}
}

export async function nodeDocsBundle(c: Context<AppEnv>): Promise<Response | null> {
	loading ??= load().then((bundle) => {
		if (!bundle)
			console.error("docs: @scalar/api-reference is not installed; /docs shows only its link");
		return bundle;
	});
	const bundle = await loading;
	if (!bundle) return null;
	const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
	const headers: Record<string, string> = { Vary: "Accept-Encoding" };
	if (gzip) headers["Content-Encoding"] = "gzip";
	return new Response(gzip ? bundle.gzip : bundle.raw, { status: 200, headers });
}
