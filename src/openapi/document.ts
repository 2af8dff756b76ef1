/**
 * The OpenAPI 3.1 document, built from the app itself: every route in `app.routes`, its
 * request schemas and auth read off the middleware it runs (./tags.ts), its prose and
 * responses from ./operations.ts. JSON Schema comes from zod 4's `z.toJSONSchema`
 * (draft 2020-12, the dialect OpenAPI 3.1 uses).
 */
import type { Hono } from "hono";
import * as z from "zod";
import { codeToStatus, type ErrorCode } from "../errors";
import type { AppEnv } from "../services";
import { aliases, components, type OperationDoc, operations, type Tag } from "./operations";
import { docOf, type MiddlewareDoc } from "./tags";

export type JsonObject = Record<string, unknown>;

/** `/licenses/:id/:action{a|b}` → `/licenses/{id}/{action}`. */
export function openApiPath(honoPath: string): string {
	return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
}

/** Each served route (`METHOD /path`, OpenAPI spelling) with the tags of the middleware it runs. */
export function servedRoutes(app: Hono<AppEnv>): Map<string, MiddlewareDoc[]> {
	const routes = new Map<string, MiddlewareDoc[]>();
	const scoped: Array<{ base: string; doc: MiddlewareDoc }> = [];
	for (const r of app.routes) {
		const doc = docOf(r.handler);
		if (r.method === "ALL") {
			// `use()` on a sub-app: applies to everything under its base path.
			if (doc) scoped.push({ base: r.path.replace(/\/\*$/, ""), doc });
			continue;
		}
		const key = `${r.method} ${openApiPath(r.path)}`;
		let docs = routes.get(key);
		if (!docs) {
			docs = scoped
				.filter((s) => r.path === s.base || r.path.startsWith(`${s.base}/`))
				.map((s) => s.doc);
			routes.set(key, docs);
		}
		if (doc) docs.push(doc);
	}
	return routes;
}

/**
 * zod writes `z.number().int()` as ±(2^53 − 1) bounds: true, but viewers show 9007199254740991
 * as the example value. Those bounds are dropped (JSON numbers past 2^53 are not integers to
 * most clients anyway); fields that need an example carry one.
 */
function dropSafeIntegerBounds(ctx: { jsonSchema: Record<string, unknown> }): void {
	const s = ctx.jsonSchema;
	if (s.type !== "integer") return;
	if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
	if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
}

const toJsonOptions = {
	io: "input",
	unrepresentable: "any",
	override: dropSafeIntegerBounds,
} as const;

function jsonSchema(schema: z.ZodType): JsonObject {
	// Inputs as clients send them (defaults optional); refinements JSON Schema cannot say are left out.
	const { $schema: _, ...rest } = z.toJSONSchema(schema, toJsonOptions);
	return rest;
}

const errorRef = { $ref: "#/components/schemas/Error" };

/** Codes every route may answer with, and those its middleware implies. */
function impliedErrors(docs: MiddlewareDoc[]): ErrorCode[] {
	const codes: ErrorCode[] = ["INTERNAL_ERROR", "MISCONFIGURED", "SERVICE_UNAVAILABLE"];
	for (const d of docs) {
		if (d.kind === "input") {
			codes.push("INVALID_REQUEST");
			if (d.target === "json") codes.push("PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE");
		} else if (d.kind === "auth" && d.scheme === "console") {
			// Pages without a session redirect to the sign-in page; writes without one are refused.
			codes.push("FORBIDDEN", "NOT_FOUND");
		} else if (d.kind === "auth") {
			codes.push("UNAUTHORIZED");
			// Without ADMIN_TOKEN the operator surface does not exist.
			if (d.scheme === "admin") codes.push("NOT_FOUND");
		} else {
			codes.push("RATE_LIMITED");
		}
	}
	return codes;
}

function errorResponses(codes: ErrorCode[], docs: MiddlewareDoc[]): Record<string, JsonObject> {
	const byStatus = new Map<number, Set<ErrorCode>>();
	for (const code of codes) {
		const status = codeToStatus[code];
		const set = byStatus.get(status) ?? new Set();
		set.add(code);
		byStatus.set(status, set);
	}
	const limits = docs.flatMap((d) =>
		d.kind === "rate-limit" ? [`${d.limit} per ${d.windowSeconds} s (${d.rule})`] : [],
	);
	const out: Record<string, JsonObject> = {};
	for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
		const list = [...(byStatus.get(status) ?? [])].sort();
		const response: JsonObject = {
			description: `${list.map((c) => `\`${c}\``).join(", ")}${status === 429 ? `: ${limits.join(", ")}` : ""}`,
			content: { "application/json": { schema: errorRef } },
		};
		if (status === 429) {
			response.headers = {
				"Retry-After": { description: "Whole seconds to wait.", schema: { type: "integer" } },
			};
		}
		out[String(status)] = response;
	}
	return out;
}

function operation(
	key: string,
	doc: OperationDoc,
	mw: MiddlewareDoc[],
	alias?: string,
): JsonObject {
	const [method = "", path = ""] = key.split(" ");
	const op: JsonObject = {
		operationId: operationId(method, path, alias !== undefined),
		summary: doc.summary,
		tags: [doc.tag],
	};
	const description = alias
		? `Alias of \`${alias}\` for older clients. ${doc.description ?? ""}`
		: doc.description;
	if (description) op.description = description.trim();
	if (alias) op.deprecated = true;

	const parameters: JsonObject[] = [];
	const described = new Set<string>();
	for (const d of mw) {
		if (d.kind !== "input") continue;
		const schema = jsonSchema(d.schema);
		if (d.target === "json") {
			op.requestBody = { required: true, content: { "application/json": { schema } } };
			continue;
		}
		const where = d.target === "param" ? "path" : d.target === "query" ? "query" : "header";
		const props = (schema.properties ?? {}) as Record<string, JsonObject>;
		const required = new Set((schema.required as string[] | undefined) ?? []);
		for (const [name, s] of Object.entries(props)) {
			const { description: pd, ...rest } = s;
			parameters.push({
				name,
				in: where,
				required: where === "path" || required.has(name),
				...(typeof pd === "string" ? { description: pd } : {}),
				schema: rest,
			});
			if (where === "path") described.add(name);
		}
	}
	// OpenAPI requires every templated segment to be declared, validated or not.
	for (const m of path.matchAll(/\{([^}]+)\}/g)) {
		const name = m[1] ?? "";
		if (!described.has(name)) {
			parameters.push({ name, in: "path", required: true, schema: { type: "string" } });
		}
	}
	for (const h of doc.headers ?? []) {
		parameters.push({
			name: h.name,
			in: "header",
			required: h.required,
			description: h.description,
			schema: { type: "string" },
		});
	}
	if (parameters.length > 0) op.parameters = parameters;
	if (doc.requestBody) {
		op.requestBody = {
			required: true,
			description: doc.requestBody.description,
			content: { [doc.requestBody.contentType]: { schema: { type: "object" } } },
		};
	}

	// Public operations say so (`[]`) rather than leave a reader or linter to guess.
	const auth = mw.find((d) => d.kind === "auth");
	op.security =
		auth?.kind === "auth"
			? [
					{
						[auth.scheme === "admin"
							? "adminToken"
							: auth.scheme === "ci"
								? "ciCredential"
								: auth.scheme === "console"
									? "adminSession"
									: "bearerAuth"]: [],
					},
				]
			: [];

	const responses: Record<string, JsonObject> = {};
	for (const [status, r] of Object.entries(doc.responses)) {
		const response: JsonObject = { description: r.description };
		if (r.body === "html") response.content = { "text/html": { schema: { type: "string" } } };
		else if (r.body === "javascript")
			response.content = { "text/javascript": { schema: { type: "string" } } };
		else if (r.body === "css") response.content = { "text/css": { schema: { type: "string" } } };
		else if (r.body) response.content = { "application/json": { schema: responseSchema(r.body) } };
		responses[status] = response;
	}
	const codes = [...impliedErrors(mw), ...(doc.errors ?? [])];
	op.responses = { ...responses, ...errorResponses(codes, mw) };
	return op;
}

/**
 * A registered schema by reference. An inline one is converted on its own, which puts the
 * registered schemas it uses under `$defs`; those point at the components instead.
 */
function responseSchema(schema: z.ZodType): JsonObject {
	const id = components.get(schema)?.id;
	if (id) return { $ref: `#/components/schemas/${id}` };
	const {
		$schema: _,
		$defs: __,
		...rest
	} = z.toJSONSchema(schema, { ...toJsonOptions, metadata: components });
	return pointDefsAtComponents(rest) as JsonObject;
}

function pointDefsAtComponents(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(pointDefsAtComponents);
	if (value === null || typeof value !== "object") return value;
	const out: JsonObject = {};
	for (const [k, v] of Object.entries(value)) {
		out[k] =
			k === "$ref" && typeof v === "string"
				? v.replace(/^#\/\$defs\//, "#/components/schemas/")
				: pointDefsAtComponents(v);
	}
	return out;
}

function operationId(method: string, path: string, legacy: boolean): string {
	const words = path
		// The console's pages sit beside the API's admin routes of the same names.
		.replace(/^\/admin(\/|$)/, "/console$1")
		.replace(/^\/api\/v1\//, "/")
		.split(/[^A-Za-z0-9]+/)
		.filter(Boolean);
	const id = [method.toLowerCase(), ...words.map((w) => w[0]?.toUpperCase() + w.slice(1))].join("");
	return legacy ? `legacy${id[0]?.toUpperCase()}${id.slice(1)}` : id;
}

const INFO_DESCRIPTION = `Licenses for the CODITECT developer tool: accounts, Stripe billing, activations on machines and Ed25519-signed license tokens that the CLI verifies offline.

**Errors.** Every non-2xx answer has the body \`{"error": {"code", "message", "request_id"}}\` (schema \`Error\`). Malformed JSON, wrong types, unknown fields or over-long values answer 400 \`INVALID_REQUEST\` naming the fields; a non-JSON body 415; a body over 16 KiB 413; an unknown route 404 \`NOT_FOUND\`; a wrong method 405.

**License tokens.** Validate and activate return a compact JWS (schema \`LicenseToken\`) that verifies with \`/.well-known/jwks.json\` alone.

**Rate limits** answer 429 \`RATE_LIMITED\` with \`Retry-After\`.`;

/** In the order a reader meets them; every operation's tag is one of these. */
const TAGS: Array<{ name: Tag; description: string }> = [
	{
		name: "Public",
		description:
			"No credentials: health, the license-token key set (JWKS) and this reference. Safe to cache briefly.",
	},
	{
		name: "Accounts",
		description:
			"Signup with an emailed code, password login, Google/GitHub sign-in (PKCE), rotating refresh tokens, logout.",
	},
	{
		name: "Licenses",
		description:
			"Validate and activate a license key on a machine (each answer carries a signed license token), free a seat, and the logged-in owner's licenses and keys.",
	},
	{
		name: "Organisations",
		description:
			"Team, SMB and Enterprise: organisations, named seats taken by emailed invitations, roles, and the org dashboard.",
	},
	{
		name: "CI",
		description:
			"CI runner leases: org API keys and workload-identity trust rules for org admins, leases for jobs.",
	},
	{
		name: "Billing",
		description:
			"Stripe Checkout to buy a plan and the Customer Portal to manage it; 503 BILLING_NOT_CONFIGURED on a server without Stripe.",
	},
	{
		name: "Operators",
		description:
			"The operator's own routes, Bearer ADMIN_TOKEN: comp and invoiced licenses, suspensions, invites, the launch dashboard. They answer 404 on a server with no ADMIN_TOKEN.",
	},
	{
		name: "Console",
		description:
			"The operator console's HTML pages at /admin: sign in with the ADMIN token for a 30-minute session cookie; every form carries a CSRF token. Listed for completeness; clients use the Operators routes.",
	},
	{
		name: "Webhooks",
		description: "Stripe's calls to this server, verified by their Stripe-Signature header.",
	},
];

const undocumented: OperationDoc = {
	summary: "Undocumented",
	tag: "Public",
	responses: { 200: { description: "Undocumented." } },
};

/** The whole document for `app`; `serverUrl` is this deployment's public URL. */
export function openApiDocument(app: Hono<AppEnv>, serverUrl: string): JsonObject {
	const paths: Record<string, Record<string, JsonObject>> = {};
	for (const [key, mw] of servedRoutes(app)) {
		const canonical = aliases[key];
		// A route added without an entry still appears (its input and auth are known), flagged
		// for test/unit/openapi.test.ts to fail on, rather than breaking the document.
		const doc = operations[canonical ?? key] ?? undocumented;
		const [method = "", path = ""] = key.split(" ");
		const item = paths[path] ?? {};
		const op = operation(key, doc, mw, canonical);
		if (doc === undocumented) op["x-undocumented"] = true;
		item[method.toLowerCase()] = op;
		paths[path] = item;
	}
	const registered = z.toJSONSchema(components, {
		...toJsonOptions,
		uri: (id) => `#/components/schemas/${id}`,
	});
	const schemas: Record<string, JsonObject> = {};
	for (const [name, { $schema: _, $id: __, ...schema }] of Object.entries(registered.schemas)) {
		schemas[name] = schema;
	}
	return {
		openapi: "3.1.0",
		info: { title: "CODITECT License Server", version: "v1", description: INFO_DESCRIPTION },
		servers: [{ url: serverUrl }],
		tags: TAGS,
		paths,
		components: {
			schemas,
			securitySchemes: {
				bearerAuth: {
					type: "http",
					scheme: "bearer",
					bearerFormat: "JWT",
					description: "A session's access token (15 minutes); renew with /api/v1/auth/refresh.",
				},
				ciCredential: {
					type: "http",
					scheme: "bearer",
					description:
						"A CI job's credential: an org API key (`cdt_ci_…`), the job's OIDC ID token from a provider an org trust rule names (GitHub Actions, GitLab), or — for heartbeat and release — the lease token itself.",
				},
				adminToken: {
					type: "http",
					scheme: "bearer",
					description: "The operator token (ADMIN_TOKEN setting), compared in constant time.",
				},
				adminSession: {
					type: "apiKey",
					in: "cookie",
					name: "coditect_admin",
					description:
						"The operator console's session (30 minutes), set by POST /admin/login in exchange for the ADMIN_TOKEN; HttpOnly, SameSite=Strict, Path=/admin. Every form POST also carries the session's CSRF token.",
				},
			},
		},
	};
}
