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

export const orgWebhookRoutes = new Hono<AppEnv>()
	.post(
		"/:id/webhooks",
		requireUser(),
		validate("param", OrgParam),
		validate("json", CreateBody),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			const { id: orgId } = c.req.valid("param");
			return c.json(
				await webhookEndpoints.create(c.get("user").id, orgId, c.req.valid("json")),
				201,
			);
		},
	)
	.get("/:id/webhooks", requireUser(), validate("param", OrgParam), async (c) => {
		const { webhookEndpoints } = c.get("services");
		const list = await webhookEndpoints.list(c.get("user").id, c.req.valid("param").id);
		return c.json({ endpoints: list }, 200);
	})
	.delete(
		"/:id/webhooks/:wid",
		requireUser(),
		validate("param", EndpointParam),
		validate("json", NoBody),
		async (c) => {
			const { webhookEndpoints } = c.get("services");
			const { id: orgId, wid } = c.req.valid("param");
			await webhookEndpoints.disable(c.get("user").id, orgId, wid);
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
			return c.json(await webhookEndpoints.rotateSecret(c.get("user").id, orgId, wid), 200);
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
			const list = await webhookEndpoints.deliveries(c.get("user").id, orgId, wid, limit);
			return c.json({ deliveries: list }, 200);
		},
	);
