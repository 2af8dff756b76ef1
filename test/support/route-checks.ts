/**
 * The shared checks every response of every route must pass (docs/api.md §3 error model, §3.6
 * headers), used by the security suites in workerd and on Node. Assertion messages carry the
 * response body.
 */
import { expect } from "vitest";

/** What the checks need of a response, from workerd's `call()` or Node's `fetch()`. */
export interface Answer {
	status: number;
	headers: Headers;
	text: string;
}

export async function answerOf(res: Response): Promise<Answer> {
	return { status: res.status, headers: res.headers, text: await res.text() };
}

export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";

/** The §3.6 headers. `path` decides Cache-Control (auth and license answers) and page CSPs. */
export function expectSecurityHeaders(res: Answer, path: string): void {
	const h = res.headers;
	const where = `${res.status} ${path}: ${res.text.slice(0, 300)}`;
	expect(h.get("x-content-type-options"), where).toBe("nosniff");
	expect(h.get("x-frame-options"), where).toBe("DENY");
	expect(h.get("strict-transport-security"), where).toBe("max-age=31536000; includeSubDomains");
	expect(h.get("referrer-policy"), where).toBe("no-referrer");
	expect(h.get("x-powered-by"), where).toBeNull();
	const csp = h.get("content-security-policy") ?? "";
	if ((h.get("content-type") ?? "").startsWith("text/html")) {
		// Pages get the CSP they need, but nothing may frame them and nothing loads by default.
		expect(csp, where).toMatch(/^default-src 'none';/);
		expect(csp, where).toContain("frame-ancestors 'none'");
	} else {
		expect(csp, where).toBe(DEFAULT_CSP);
	}
	if (/^\/(api\/v1\/(auth|licenses|me)|auth|licenses)(\/|$)/.test(path) || res.status >= 400) {
		expect(h.get("cache-control"), where).toBe("no-store");
	}
}

/** Stack frames, file paths, SQL and driver vocabulary: none of it belongs on the wire. */
const LEAK =
	/\bat \S+ \(|\bat async\b|node_modules|\.[jt]s:\d+|\bpostgres|\bselect\s|\binsert\s+into|\bupdate\s+\w+\s+set|\bdelete\s+from|\brelation "|\bcolumn "|duplicate key|violates|syntax error|ECONN|SQLSTATE|hyperdrive/i;

export function expectNoLeak(res: Answer): void {
	expect(res.text, `${res.status}: ${res.text}`).not.toMatch(LEAK);
}

export interface ErrorShape {
	error: { code: string; message: string; request_id: string; fields?: string[] };
}

/** `{"error":{"code","message","request_id"}}` with SCREAMING_SNAKE code; returns the body. */
export function expectErrorBody(res: Answer, status?: number, code?: string): ErrorShape {
	if (status !== undefined) expect(res.status, res.text).toBe(status);
	let body: unknown;
	try {
		body = JSON.parse(res.text);
	} catch {
		throw new Error(`error body is not JSON: ${res.status} ${res.text.slice(0, 300)}`);
	}
	expect(body, res.text).toMatchObject({
		error: {
			code: expect.stringMatching(/^[A-Z][A-Z0-9_]*$/),
			message: expect.any(String),
			request_id: expect.stringMatching(/^req_/),
		},
	});
	const shaped = body as ErrorShape;
	if (code !== undefined) expect(shaped.error.code, res.text).toBe(code);
	expect(res.headers.get("x-request-id"), res.text).toBe(shaped.error.request_id);
	expectNoLeak(res);
	return shaped;
}

/** Every answer: headers; no 5xx; errors in the contract's shape without leaks. */
export function expectSafe(res: Answer, path: string): void {
	expect(res.status, `${path}: ${res.text}`).toBeLessThan(500);
	expectSecurityHeaders(res, path);
	if (res.status >= 400) expectErrorBody(res);
}

/** The error body with the per-request id blanked: what must be identical across failures. */
export function withoutRequestId(text: string): string {
	return text.replace(/"request_id":"[^"]*"/, '"request_id":"-"');
}
