import { Hono } from "hono";
import { z } from "zod";
import { launchMetrics } from "../metrics/dashboard";
import { requireAdmin } from "../middleware/auth";
import { validate } from "../middleware/validate";
import type { AppEnv } from "../services";
import { operatorLicenseRoutes } from "./licenses";

const CreateInvitesBody = z.strictObject({ count: z.number().int().min(1).max(100) });
const MetricsQuery = z.strictObject({
	since: z.iso
		.datetime({ offset: true })
		.optional()
		.describe("Start of the window (ISO 8601 with offset); default 30 days ago."),
});

/** The operator surface: license actions (./licenses.ts), invites, the launch dashboard. */
export const adminRoutes = new Hono<AppEnv>()
	.use(requireAdmin())
	.route("/licenses", operatorLicenseRoutes)
	.post("/invites", validate("json", CreateInvitesBody), async (c) => {
		const { accounts } = c.get("services");
		return c.json({ codes: await accounts.createInvites(c.req.valid("json").count) }, 201);
	})
	.get("/metrics", validate("query", MetricsQuery), async (c) => {
		// A dashboard may lag by Hyperdrive's cache (≤ 1 min); nothing is decided from it.
		const { cachedDb } = c.get("services");
		return c.json(await launchMetrics(cachedDb, c.req.valid("query").since), 200);
	});
