/**
 * The OpenAPI document is generated from the app: these checks make a route without a
 * description, a description without a route, a dangling $ref or an invalid document fail.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { newApp } from "../../src/app";
import { type JsonObject, openApiDocument, openApiPath } from "../../src/openapi/document";
import { aliases, operations } from "../../src/openapi/operations";
import type { Runtime } from "../../src/services";

// Building the document never reaches the runtime: routes are read, not called.
const unusedRuntime = {} as Runtime;
const app = newApp(unusedRuntime);
const doc = openApiDocument(app, "http://license.test");
const paths = doc.paths as Record<string, Record<string, JsonObject>>;

function refsIn(value: unknown, out: string[] = []): string[] {
	if (Array.isArray(value)) for (const v of value) refsIn(v, out);
	else if (value && typeof value === "object") {
		for (const [k, v] of Object.entries(value)) {
			if (k === "$ref" && typeof v === "string") out.push(v);
			else refsIn(v, out);
		}
	}
	return out;
}

function resolvePointer(root: unknown, ref: string): unknown {
	let node: unknown = root;
	for (const part of ref.replace(/^#\//, "").split("/")) {
		if (!node || typeof node !== "object") return undefined;
		node = (node as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
	}
	return node;
}

describe("the OpenAPI document", () => {
	it("describes every route the app serves, with every method", () => {
		const described = new Set([...Object.keys(operations), ...Object.keys(aliases)]);
		const undescribed = app.routes
			.filter((r) => r.method !== "ALL")
			.map((r) => `${r.method} ${openApiPath(r.path)}`)
			.filter((key) => !described.has(key));
		expect(undescribed, "add these to src/openapi/operations.ts").toEqual([]);
		for (const key of described) {
			const [method = "", path = ""] = key.split(" ");
			expect(paths[path]?.[method.toLowerCase()], key).toBeDefined();
		}
		const flagged = Object.values(paths).flatMap((item) =>
			Object.values(item).filter((op) => op["x-undocumented"]),
		);
		expect(flagged).toEqual([]);
	});

	it("describes no route the app does not serve", () => {
		const served = new Set(
			app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`),
		);
		const stale = [...Object.keys(operations), ...Object.keys(aliases)].filter(
			(key) => !served.has(key),
		);
		expect(stale).toEqual([]);
	});

	it("is a valid OpenAPI 3.1 document", async () => {
		const result = await new Validator().validate(structuredClone(doc));
		expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
		expect(result.valid).toBe(true);
		expect(doc.openapi).toBe("3.1.0");
	});

	it("resolves every $ref inside itself", () => {
		const dangling = refsIn(doc).filter((ref) => resolvePointer(doc, ref) === undefined);
		expect(dangling).toEqual([]);
	});

	it("gives every operation a unique id, a summary and a success answer", () => {
		const ids: string[] = [];
		for (const [path, item] of Object.entries(paths)) {
			expect(Object.keys(item).length, path).toBeGreaterThan(0);
			for (const [method, op] of Object.entries(item)) {
				ids.push(String(op.operationId));
				expect(op.summary, `${method} ${path}`).toBeTypeOf("string");
				const statuses = Object.keys(op.responses as JsonObject);
				// A console form post may instead redirect (303) to the page to show next.
				const console = (op.tags as string[]).includes("Console") && method === "post";
				expect(
					statuses.some((s) => s.startsWith("2") || (console && s === "303")),
					`${method} ${path}`,
				).toBe(true);
			}
		}
		expect(new Set(ids).size).toBe(ids.length);
	});

	it("takes request bodies from the validators the routes run", () => {
		const signup = paths["/api/v1/auth/signup"]?.post;
		const body = resolvePointer(signup, "#/requestBody/content/application~1json/schema");
		expect(body).toMatchObject({
			type: "object",
			additionalProperties: false,
			required: ["email", "password"],
			properties: { password: { minLength: 8, maxLength: 128 } },
		});
	});

	it("marks operator and user routes with their security scheme", () => {
		expect(paths["/api/v1/admin/metrics"]?.get?.security).toEqual([{ adminToken: [] }]);
		expect(paths["/api/v1/me"]?.get?.security).toEqual([{ bearerAuth: [] }]);
		// Public operations say so explicitly.
		expect(paths["/api/v1/licenses/validate"]?.post?.security).toEqual([]);
		expect(paths["/healthz"]?.get?.security).toEqual([]);
		expect(doc.components).toMatchObject({
			securitySchemes: { bearerAuth: { scheme: "bearer" }, adminToken: { scheme: "bearer" } },
		});
	});

	it("documents the metrics query and the error codes a route answers with", () => {
		const metrics = paths["/api/v1/admin/metrics"]?.get;
		expect(metrics?.parameters).toEqual([
			expect.objectContaining({ name: "since", in: "query", required: false }),
		]);
		const activate = paths["/api/v1/licenses/activate"]?.post?.responses as Record<
			string,
			{ description: string }
		>;
		expect(activate["403"]?.description).toContain("ACTIVATION_LIMIT_REACHED");
		expect(activate["404"]?.description).toContain("LICENSE_NOT_FOUND");
		expect(activate["429"]?.description).toContain("RATE_LIMITED");
		expect(activate["415"]?.description).toContain("UNSUPPORTED_MEDIA_TYPE");
	});

	it("lists the seed paths as deprecated aliases", () => {
		expect(paths["/auth/login"]?.post).toMatchObject({ deprecated: true });
		expect(paths["/api/v1/auth/login"]?.post?.deprecated).toBeUndefined();
	});

	it("gives every tag a description and every operation a described tag", () => {
		const tags = doc.tags as Array<{ name: string; description?: string }>;
		for (const t of tags) expect(t.description, t.name).toMatch(/\w{3}/);
		const names = new Set(tags.map((t) => t.name));
		for (const item of Object.values(paths)) {
			for (const op of Object.values(item)) {
				for (const t of op.tags as string[]) expect(names.has(t), t).toBe(true);
			}
		}
	});

	it("says /openapi.json answers JSON", () => {
		const ok = paths["/openapi.json"]?.get?.responses as Record<string, JsonObject>;
		expect(Object.keys(ok["200"]?.content as JsonObject)).toEqual(["application/json"]);
	});

	it("bounds no integer by ±(2^53 − 1) and gives the session's lifetimes examples", () => {
		const text = JSON.stringify(doc);
		expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
		const schemas = (doc.components as { schemas: Record<string, JsonObject> }).schemas;
		expect(schemas.Session).toMatchObject({
			properties: { expires_in: { type: "integer", examples: [900] } },
		});
	});

	it("names the API's entitlements object apart from the token's feature list", () => {
		const schemas = (doc.components as { schemas: Record<string, JsonObject> }).schemas;
		expect(schemas.License).toMatchObject({
			properties: { entitlements: { $ref: "#/components/schemas/PlanEntitlements" } },
		});
		expect(schemas.PlanEntitlements).toMatchObject({
			type: "object",
			properties: { features: { type: "array" } },
		});
		expect(String(schemas.PlanEntitlements?.description)).toContain("lic.entitlements");
		expect(String(schemas.LicenseToken?.description)).toContain("array of feature names");
	});

	it("describes the error body, the session and the license token", () => {
		const schemas = (doc.components as { schemas: Record<string, JsonObject> }).schemas;
		expect(schemas.Error).toMatchObject({ required: ["error"] });
		expect(schemas.Session).toMatchObject({ properties: { token_type: { const: "Bearer" } } });
		expect(String(schemas.LicenseToken?.description)).toContain("coditect-license+jwt");
	});
});
