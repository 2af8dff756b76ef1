import type { Context, MiddlewareHandler, Next } from "hono";
import { ApiError, apiError } from "../errors";
import type { AppEnv } from "../services";

export const MAX_BODY_BYTES = 16 * 1024;
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;
// Not streaming, so one decoder serves every request (it keeps no state between decode calls).
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Guards every JSON route before validation: 413 above 16 KiB (counted while reading, so a
 * chunked body without Content-Length cannot slip past), 415 for anything but JSON, 400 for
 * malformed JSON. The parsed value goes into `c.var.jsonBody`, where validate("json") reads it,
 * and the text into Hono's body cache, so `c.req.json()`/`text()` still answer: the body is
 * read and parsed once.
 */
export function jsonBody(): MiddlewareHandler<AppEnv> {
	// Not async: each path hands back the next layer's promise (behind the body read's own,
	// when there is a body), one promise and one turn of the queue fewer than awaiting it.
	return (c, next) => {
		const raw = c.req.raw;
		if (raw.method === "GET" || raw.method === "HEAD" || raw.method === "OPTIONS") return next();
		const declared = raw.headers.get("content-length");
		if (declared === null) {
			if (!raw.body) return accept(c, new Uint8Array(0), next);
			return readLimited(raw.body, MAX_BODY_BYTES).then((bytes) => accept(c, bytes, next));
		}
		if (!/^\d+$/.test(declared) || Number(declared) > MAX_BODY_BYTES)
			throw apiError("PAYLOAD_TOO_LARGE");
		// The runtime holds the body to its declared length; reading it whole is safe and is
		// the fast path on Node (no web stream is built).
		return raw.arrayBuffer().then((buffer) => {
			if (buffer.byteLength > MAX_BODY_BYTES) throw apiError("PAYLOAD_TOO_LARGE");
			return accept(c, new Uint8Array(buffer), next);
		});
	};
}

/** The body's bytes, within the limit: checked, parsed and kept for the layers after. */
function accept(c: Context<AppEnv>, bytes: Uint8Array, next: Next): Promise<void> {
	if (bytes.byteLength === 0) {
		// Bodiless POSTs (suspend, logout…) are fine; routes with a schema reject `{}` themselves.
		c.set("jsonBody", {});
		cacheText(c.req.bodyCache, "{}");
		return next();
	}
	const mediaType = (c.req.raw.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
	if (!JSON_TYPE.test(mediaType)) throw apiError("UNSUPPORTED_MEDIA_TYPE");
	let text: string;
	let parsed: unknown;
	try {
		text = UTF8.decode(bytes);
		parsed = JSON.parse(text);
	} catch {
		throw new ApiError("INVALID_REQUEST", "The request body is not valid JSON.", {
			extra: { fields: [] },
		});
	}
	c.set("jsonBody", parsed);
	// Hono's c.req.json() parses the cached *text* (with only `json` cached it would stringify
	// it and read it back through a new Response, a web-stream Response on Node).
	cacheText(c.req.bodyCache, text);
	return next();
}

/**
 * Hono keeps promises in its body cache (`c.req.json()` calls `.then` on the `text` entry),
 * though its type says `text: string`.
 */
function cacheText(cache: { text?: string }, text: string): void {
	(cache as { text?: unknown }).text = Promise.resolve(text);
}

export async function readLimited(
	body: ReadableStream<Uint8Array>,
	max: number,
): Promise<Uint8Array> {
	const reader = body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > max) {
			await reader.cancel().catch(() => {});
			throw apiError("PAYLOAD_TOO_LARGE");
		}
		chunks.push(value);
	}
	const out = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}
