import type { MiddlewareHandler } from "hono";
import { ApiError, apiError } from "../errors";

export const MAX_BODY_BYTES = 16 * 1024;
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Guards every JSON route before validation: 413 above 16 KiB (counted while reading, so a
 * chunked body without Content-Length cannot slip past), 415 for anything but JSON, 400 for
 * malformed JSON. The checked bytes replace the request body, so the validator reads them again
 * without touching the network.
 */
export function jsonBody(): MiddlewareHandler {
	return async (c, next) => {
		const raw = c.req.raw;
		if (raw.method === "GET" || raw.method === "HEAD" || raw.method === "OPTIONS") return next();
		const declared = raw.headers.get("content-length");
		if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
			throw apiError("PAYLOAD_TOO_LARGE");
		}
		const bytes = raw.body ? await readLimited(raw.body, MAX_BODY_BYTES) : new Uint8Array(0);
		if (bytes.length === 0) {
			// Bodiless POSTs (suspend, logout…) are fine; routes with a schema reject `{}`-less input.
			c.req.raw = new Request(raw, { body: "{}", headers: withJsonType(raw.headers) });
			return next();
		}
		const mediaType = (raw.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
		if (!JSON_TYPE.test(mediaType)) throw apiError("UNSUPPORTED_MEDIA_TYPE");
		let text: string;
		try {
			text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
			JSON.parse(text);
		} catch {
			throw new ApiError("INVALID_REQUEST", "The request body is not valid JSON.", {
				extra: { fields: [] },
			});
		}
		c.req.raw = new Request(raw, { body: text });
		return next();
	};
}

function withJsonType(headers: Headers): Headers {
	const h = new Headers(headers);
	h.set("content-type", "application/json");
	h.delete("content-length");
	return h;
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
