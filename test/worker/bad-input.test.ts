/**
 * Every JSON route against the input a careless or hostile client sends: always the documented
 * 4xx with the error body and the security headers, never a 5xx, a stack trace or an echo.
 */
import { describe, expect, it } from "vitest";
import {
	type ApiResponse,
	type CallOptions,
	call,
	createLicense,
	hardwareId,
	mintInvite,
	randomEmail,
	randomIp,
} from "../support/worker-client";

interface Route {
	path: string;
	admin?: boolean;
	/** A body the route accepts, to be broken in different ways. */
	good: () => Promise<Record<string, unknown>>;
}

const key = async () => (await createLicense()).key;
async function activated(): Promise<Record<string, unknown>> {
	const body = { license_key: await key(), hardware_id: hardwareId() };
	const res = await call("/api/v1/licenses/activate", { json: body });
	if (res.status !== 201) throw new Error(`activation failed: ${res.text}`);
	return body;
}
const routes: Route[] = [
	{
		path: "/api/v1/licenses/validate",
		good: async () => ({ license_key: await key(), hardware_id: hardwareId() }),
	},
	{
		path: "/api/v1/licenses/activate",
		good: async () => ({ license_key: await key(), hardware_id: hardwareId() }),
	},
	{ path: "/api/v1/licenses/deactivate", good: activated },
	{
		path: "/licenses/validate",
		good: async () => ({ license_key: await key(), hardware_id: hardwareId() }),
	},
	{
		path: "/licenses/activate",
		good: async () => ({ license_key: await key(), hardware_id: hardwareId() }),
	},
	{ path: "/api/v1/admin/licenses", admin: true, good: async () => ({ plan: "starter" }) },
	{ path: "/api/v1/admin/invites", admin: true, good: async () => ({ count: 1 }) },
	{
		path: "/api/v1/auth/signup",
		good: async () => ({
			email: randomEmail(),
			password: "a long enough password",
			invite_code: await mintInvite(),
		}),
	},
];

function expectContractError(
	res: ApiResponse<{ error?: Record<string, unknown> }>,
	status: number,
	code: string,
): void {
	expect(res.status, res.text).toBe(status);
	expect(res.body.error?.code, res.text).toBe(code);
	expect(typeof res.body.error?.message).toBe("string");
	expect(res.body.error?.request_id).toMatch(/^req_/);
	expectSafe(res);
}

function expectSafe(res: ApiResponse): void {
	expect(res.status).toBeLessThan(500);
	expect(res.text).not.toMatch(/\bat \S+ \(|node_modules|\.ts:\d+|postgres|select |insert /i);
	expect(res.headers.get("x-content-type-options")).toBe("nosniff");
	expect(res.headers.get("x-frame-options")).toBe("DENY");
	expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
	expect(res.headers.get("content-security-policy")).toBe(
		"default-src 'none'; frame-ancestors 'none'",
	);
	expect(res.headers.get("referrer-policy")).toBe("no-referrer");
	expect(res.headers.get("x-powered-by")).toBeNull();
}

describe.each(routes)("POST $path", (route) => {
	const send = (opts: CallOptions) =>
		call<{ error?: Record<string, unknown> }>(route.path, {
			method: "POST",
			admin: route.admin,
			// A fresh address per call: these tests are about input, not per-IP limits.
			ip: randomIp(),
			...opts,
		});

	it("accepts its well-formed body", async () => {
		const res = await send({ json: await route.good() });
		expect(res.status, res.text).toBeLessThan(300);
		expectSafe(res);
	});

	it("answers malformed JSON with 400 INVALID_REQUEST", async () => {
		expectContractError(
			await send({ body: '{"license_key": ', headers: { "content-type": "application/json" } }),
			400,
			"INVALID_REQUEST",
		);
	});

	it("answers a non-object JSON body with 400 INVALID_REQUEST", async () => {
		for (const body of ["[]", "null", "42", '"x"']) {
			expectContractError(
				await send({ body, headers: { "content-type": "application/json" } }),
				400,
				"INVALID_REQUEST",
			);
		}
	});

	it("answers wrong types with 400 naming the field, not its value", async () => {
		const good = await route.good();
		const [field] = Object.keys(good);
		const res = await send({
			json: { ...good, [field as string]: { nested: "SECRET-VALUE-123" } },
		});
		expectContractError(res, 400, "INVALID_REQUEST");
		expect(res.body.error?.fields).toContain(field);
		expect(res.text).not.toContain("SECRET-VALUE-123");
	});

	it("answers unknown fields with 400 naming them", async () => {
		const res = await send({ json: { ...(await route.good()), is_admin: true } });
		expectContractError(res, 400, "INVALID_REQUEST");
		expect(res.body.error?.fields).toContain("is_admin");
	});

	it("keeps __proto__ harmless", async () => {
		const good = await route.good();
		const body = `{"__proto__":{"polluted":true},${JSON.stringify(good).slice(1)}`;
		const res = await send({ body, headers: { "content-type": "application/json" } });
		expect(res.status, res.text).toBeLessThan(500);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expectSafe(res);
	});

	it("answers over-long values with 400", async () => {
		const good = await route.good();
		const [field] = Object.keys(good);
		const res = await send({ json: { ...good, [field as string]: "A".repeat(300) } });
		expectContractError(res, 400, "INVALID_REQUEST");
	});

	it("answers a non-JSON content type with 415", async () => {
		const body = JSON.stringify(await route.good());
		expectContractError(
			await send({ body, headers: { "content-type": "text/plain" } }),
			415,
			"UNSUPPORTED_MEDIA_TYPE",
		);
		expectContractError(
			await send({ body: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } }),
			415,
			"UNSUPPORTED_MEDIA_TYPE",
		);
	});

	it("answers a body over 16 KiB with 413, with or without Content-Length", async () => {
		const big = JSON.stringify({ pad: "x".repeat(20_000) });
		expectContractError(
			await send({ body: big, headers: { "content-type": "application/json" } }),
			413,
			"PAYLOAD_TOO_LARGE",
		);
		const chunks = [
			new TextEncoder().encode(big.slice(0, 10_000)),
			new TextEncoder().encode(big.slice(10_000)),
		];
		const stream = new ReadableStream<Uint8Array>({
			pull(controller) {
				const next = chunks.shift();
				if (next) controller.enqueue(next);
				else controller.close();
			},
		});
		expectContractError(
			await send({ body: stream, headers: { "content-type": "application/json" } }),
			413,
			"PAYLOAD_TOO_LARGE",
		);
	});

	it("answers GET with 405 and an Allow header", async () => {
		const res = await call<{ error?: Record<string, unknown> }>(route.path, {
			method: "GET",
			admin: route.admin,
		});
		expectContractError(res, 405, "METHOD_NOT_ALLOWED");
		expect(res.headers.get("allow")).toContain("POST");
	});
});

describe("the rest of the surface", () => {
	it("answers unknown routes with 404 NOT_FOUND in the error shape", async () => {
		expectContractError(await call("/nope"), 404, "NOT_FOUND");
		expectContractError(
			await call("/api/v1/licenses/nope", { method: "POST", json: {} }),
			404,
			"NOT_FOUND",
		);
	});

	it("hides the operator routes behind the admin token", async () => {
		const res = await call("/api/v1/admin/licenses", {
			json: { plan: "starter" },
			headers: { authorization: "Bearer wrong" },
		});
		expectContractError(res, 401, "UNAUTHORIZED");
		expectContractError(
			await call("/api/v1/admin/licenses", { json: { plan: "starter" } }),
			401,
			"UNAUTHORIZED",
		);
	});

	it("rejects an unknown plan and a past expiry on license creation", async () => {
		const unknown = await call<{ error?: Record<string, unknown> }>("/api/v1/admin/licenses", {
			json: { plan: "gold" },
			admin: true,
		});
		expectContractError(unknown, 400, "INVALID_REQUEST");
		const past = await call<{ error?: Record<string, unknown> }>("/api/v1/admin/licenses", {
			json: { plan: "starter", expires_at: "2001-01-01T00:00:00Z" },
			admin: true,
		});
		expectContractError(past, 400, "INVALID_REQUEST");
	});

	it("answers 404 for operator actions on unknown licenses and never echoes keys", async () => {
		const res = await call("/api/v1/admin/licenses/lic_doesnotexist/suspend", {
			method: "POST",
			admin: true,
		});
		expectContractError(res, 404, "LICENSE_NOT_FOUND");
		const { key } = await createLicense();
		const activate = await call("/api/v1/licenses/deactivate", {
			json: { license_key: key, hardware_id: hardwareId() },
		});
		expectContractError(activate, 404, "ACTIVATION_NOT_FOUND");
		expect(activate.text).not.toContain(key);
	});

	it("serves healthz and the JWKS with the security headers", async () => {
		const health = await call("/healthz");
		expect(health.status).toBe(200);
		expect(health.body).toEqual({ status: "ok" });
		expectSafe(health);
		expectSafe(await call("/.well-known/jwks.json"));
	});
});
