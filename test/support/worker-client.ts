/** Calls the Worker under test (inside workerd) the way a client would. */
import { exports } from "cloudflare:workers";
import { inject } from "vitest";

export interface ApiResponse<T = Record<string, unknown>> {
	status: number;
	headers: Headers;
	body: T;
	text: string;
}

export interface CallOptions {
	method?: string;
	json?: unknown;
	body?: BodyInit;
	headers?: Record<string, string>;
	admin?: boolean;
	ip?: string;
}

export async function call<T = Record<string, unknown>>(
	path: string,
	opts: CallOptions = {},
): Promise<ApiResponse<T>> {
	const headers = new Headers(opts.headers);
	let body = opts.body;
	if (opts.json !== undefined) {
		body = JSON.stringify(opts.json);
		if (!headers.has("content-type")) headers.set("content-type", "application/json");
	}
	if (opts.admin) headers.set("authorization", `Bearer ${inject("adminToken")}`);
	headers.set("cf-connecting-ip", opts.ip ?? "203.0.113.7");
	const res = await (exports as unknown as { default: Fetcher }).default.fetch(
		new Request(`http://license.test${path}`, {
			method: opts.method ?? (body === undefined ? "GET" : "POST"),
			headers,
			body,
		}),
	);
	const text = await res.text();
	let parsed: unknown = null;
	try {
		parsed = JSON.parse(text);
	} catch {}
	return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export function hardwareId(label: string = crypto.randomUUID()): string {
	return Array.from(new TextEncoder().encode(label.padEnd(32, "x").slice(0, 32)), (b) =>
		b.toString(16).padStart(2, "0"),
	).join("");
}

/** A fresh license through the operator route; returns its key and id. */
export async function createLicense(
	fields: Record<string, unknown> = {},
): Promise<{ key: string; id: string }> {
	const res = await call<{ license_key: string; license: { id: string } }>(
		"/api/v1/admin/licenses",
		{
			json: { plan: "professional", ...fields },
			admin: true,
		},
	);
	if (res.status !== 201) throw new Error(`create license failed: ${res.status} ${res.text}`);
	return { key: res.body.license_key, id: res.body.license.id };
}
