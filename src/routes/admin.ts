import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { apiError } from "../errors";
import { launchMetrics } from "../metrics/dashboard";
import { validate } from "../middleware/validate";
import { documented } from "../openapi/tags";
import { email, NoBody } from "./schemas";

const CreateLicenseBody = z.strictObject({
	plan: z.string().min(1).max(32),
	owner_email: email.optional(),
	max_activations: z.number().int().min(0).max(100_000).optional(),
	expires_at: z.iso.datetime({ offset: true }).optional(),
});
const CreateInvitesBody = z.strictObject({ count: z.number().int().min(1).max(100) });
const LicenseParam = z.strictObject({ id: z.string().min(1).max(64) });
const MetricsQuery = z.strictObject({
	since: z.iso
		.datetime({ offset: true })
		.optional()
		.describe("Start of the window (ISO 8601 with offset); default 30 days ago."),
});

/**
 * Bearer ADMIN_TOKEN, compared in constant time. Without a configured token the operator
 * surface does not exist (404), so a default install exposes nothing.
 */
function requireAdmin(): MiddlewareHandler<AppEnv> {
	const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
		const expected = c.get("services").config.settings.ADMIN_TOKEN;
		if (!expected) throw apiError("NOT_FOUND");
		const header = c.req.header("authorization") ?? "";
		const given = header.startsWith("Bearer ") ? header.slice(7) : "";
		if (!(await timingSafeEqualStrings(given, expected))) {
			throw apiError("UNAUTHORIZED", "A valid operator token is required.");
		}
		await next();
	};
	return documented(middleware, { kind: "auth", scheme: "admin" });
}

/** Compares HMACs of both strings so neither length nor content leaks through timing. */
async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
	const key = await crypto.subtle.importKey(
		"raw",
		crypto.getRandomValues(new Uint8Array(32)),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const enc = new TextEncoder();
	const [ha, hb] = await Promise.all([
		crypto.subtle.sign("HMAC", key, enc.encode(a)),
		crypto.subtle.sign("HMAC", key, enc.encode(b)),
	]);
	const x = new Uint8Array(ha);
	const y = new Uint8Array(hb);
	let diff = 0;
	for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
	return diff === 0;
}

export const adminRoutes = new Hono<AppEnv>()
	.use(requireAdmin())
	.post("/licenses", validate("json", CreateLicenseBody), async (c) => {
		const { licenses } = c.get("services");
		return c.json(await licenses.create(c.req.valid("json")), 201);
	})
	.post(
		"/licenses/:id/:action{suspend|reinstate|revoke}",
		validate("param", LicenseParam.extend({ action: z.enum(["suspend", "reinstate", "revoke"]) })),
		validate("json", NoBody),
		async (c) => {
			const { licenses } = c.get("services");
			const { id, action } = c.req.valid("param");
			return c.json({ license: await licenses.setStatus(id, action) }, 200);
		},
	)
	.post("/invites", validate("json", CreateInvitesBody), async (c) => {
		const { accounts } = c.get("services");
		return c.json({ codes: await accounts.createInvites(c.req.valid("json").count) }, 201);
	})
	.get("/metrics", validate("query", MetricsQuery), async (c) => {
		// A dashboard may lag by Hyperdrive's cache (≤ 1 min); nothing is decided from it.
		const { cachedDb } = c.get("services");
		return c.json(await launchMetrics(cachedDb, c.req.valid("query").since), 200);
	});
