/**
 * An org's outbound webhook endpoints (Bearer session; owners and admins). Mounted at
 * /api/v1/orgs beside the org routes. Not to be confused with routes/webhooks.ts, which
 * receives Stripe's. A caller who is not a member gets 404, a plain member 403.
 */
import { Hono } from "hono";
import * as z from "zod";
import { requireUser } from "../middleware/auth";
import { validate } from "../middleware/validate";
import type { AppEnv } from "../services";
import { WEBHOOK_EVENTS } from "../webhooks/outbox";
import { NoBody } from "./schemas";

const id = z.string().min(1).max(64);
const OrgParam = z.strictObject({ id });
const EndpointParam = z.strictObject({ id, wid: id });
const CreateBody = z.strictObject({
	url: z.string().min(1).max(2048).describe("https, on a public address."),
	events: z
		.array(z.enum(WEBHOOK_EVENTS))
		.min(1)
		.max(WEBHOOK_EVENTS.length)
		.refine((list) => new Set(list).size === list.length, "events must not repeat"),
});
const DeliveriesQuery = z.strictObject({
	limit: z
		.string()
		.regex(/^\d{1,3}$/)
		.transform(Number)
		.pipe(z.number().int().min(1).max(100))
		.optional()
		.describe("How many, 1–100 (default 50)."),
});

const EndpointIdParam = z.strictObject({ wid: id });

export const orgWebhookRoutes = new Hono<AppEnv>()
	.post(
		"/:id/webhooks",
		requireUser(),
		validate("param", OrgParam),
		validate("json", CreateBody),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			const owner = { orgId: c.req.valid("param").id, userId: c.get("user").id };
			return c.json(await webhookEndpoints.create(owner, c.req.valid("json")), 201);
		},
	)
	.get("/:id/webhooks", requireUser(), validate("param", OrgParam), async (c) => {
		const { webhookEndpoints } = c.get("services");
		const owner = { orgId: c.req.valid("param").id, userId: c.get("user").id };
		return c.json({ endpoints: await webhookEndpoints.list(owner) }, 200);
	})
	.delete(
		"/:id/webhooks/:wid",
		requireUser(),
		validate("param", EndpointParam),
		validate("json", NoBody),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			const { id: orgId, wid } = c.req.valid("param");
			await webhookEndpoints.disable({ orgId, userId: c.get("user").id }, wid);
			return c.body(null, 204);
		},
	)
	.post(
		"/:id/webhooks/:wid/rotate-secret",
		requireUser(),
		validate("param", EndpointParam),
		validate("json", NoBody),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			const { id: orgId, wid } = c.req.valid("param");
			const owner = { orgId, userId: c.get("user").id };
			return c.json(await webhookEndpoints.rotateSecret(owner, wid), 200);
		},
	)
	.get(
		"/:id/webhooks/:wid/deliveries",
		requireUser(),
		validate("param", EndpointParam),
		validate("query", DeliveriesQuery),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			const { id: orgId, wid } = c.req.valid("param");
			const limit = c.req.valid("query").limit ?? 50;
			const owner = { orgId, userId: c.get("user").id };
			return c.json({ deliveries: await webhookEndpoints.deliveries(owner, wid, limit) }, 200);
		},
	);

/**
 * The operator's endpoints (org_id null), mounted at /api/v1/admin/webhooks behind
 * requireAdmin: they hear every org's events and those outside any org. Same bodies, checks
 * and answers as an org's; an org's endpoint id here is 404.
 */
export const operatorWebhookRoutes = new Hono<AppEnv>()
	.post("/", validate("json", CreateBody), async (c) => {
		const { webhookEndpoints } = c.get("services");
		return c.json(await webhookEndpoints.create("operator", c.req.valid("json")), 201);
	})
	.get("/", async (c) => {
		const { webhookEndpoints } = c.get("services");
		return c.json({ endpoints: await webhookEndpoints.list("operator") }, 200);
	})
	.delete("/:wid", validate("param", EndpointIdParam), validate("json", NoBody), async (c) => {
		const { webhookEndpoints } = c.get("services");
		await webhookEndpoints.disable("operator", c.req.valid("param").wid);
		return c.body(null, 204);
	})
	.post(
		"/:wid/rotate-secret",
		validate("param", EndpointIdParam),
		validate("json", NoBody),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			return c.json(await webhookEndpoints.rotateSecret("operator", c.req.valid("param").wid), 200);
		},
	)
	.get(
		"/:wid/deliveries",
		validate("param", EndpointIdParam),
		validate("query", DeliveriesQuery),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			const limit = c.req.valid("query").limit ?? 50;
			const wid = c.req.valid("param").wid;
			return c.json({ deliveries: await webhookEndpoints.deliveries("operator", wid, limit) }, 200);
		},
	);
