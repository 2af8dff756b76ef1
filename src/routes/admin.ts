import { Hono } from "hono";
import * as z from "zod";
import { searchUsers } from "../accounts/directory";
import { inviteBatch, listInviteBatches } from "../accounts/invite-batches";
import { readAudit } from "../audit/query";
import { searchActivations } from "../licenses/machines";
import { launchMetrics, launchSeries } from "../metrics/dashboard";
import { requireAdmin } from "../middleware/auth";
import { validate } from "../middleware/validate";
import { searchOrgs } from "../orgs/directory";
import type { AppEnv } from "../services";
import { operatorLicenseRoutes, pageLimit } from "./licenses";
import { hardwareId } from "./schemas";
import { operatorWebhookRoutes } from "./webhooks-out";

export const CreateInvitesBody = z.strictObject({
	count: z.number().int().min(1).max(100),
	label: z
		.string()
		.trim()
		.min(1)
		.max(100)
		.optional()
		.describe("What the batch is for (a campaign, a conference), shown in the batch list."),
});
const InviteBatchParam = z.strictObject({ id: z.string().regex(/^ivb_[0-9a-z]{20}$/) });
const MetricsQuery = z.strictObject({
	since: z.iso
		.datetime({ offset: true })
		.optional()
		.describe("Start of the window (ISO 8601 with offset); default 30 days ago."),
});

export const DailyQuery = z.strictObject({
	days: z
		.string()
		.regex(/^\d{1,2}$/)
		.transform(Number)
		.pipe(z.number().int().min(1).max(90))
		.optional()
		.describe("How many UTC days, today included: 1–90 (default 30)."),
});

const auditId = z.string().min(1).max(64);
export const AuditQuery = z.strictObject({
	action: z.string().min(1).max(64).optional(),
	result: z.string().min(1).max(64).optional(),
	user_id: auditId.optional(),
	license_id: auditId.optional(),
	since: z.iso.datetime({ offset: true }).optional(),
	until: z.iso.datetime({ offset: true }).optional(),
	limit: pageLimit,
	cursor: z.string().min(1).max(200).optional().describe("`next_cursor` of the previous page."),
});

const cursor = z
	.string()
	.min(1)
	.max(200)
	.optional()
	.describe("`next_cursor` of the previous page.");
/** A list with nothing to filter: a page size and where to continue. */
export const pageLimitCursor = z.strictObject({ limit: pageLimit, cursor });
export const UsersQuery = z.strictObject({
	email: z.string().min(1).max(254).optional().describe("Substring of the address."),
	stripe_customer_id: z.string().min(1).max(255).optional(),
	limit: pageLimit,
	cursor,
});
export const OrgsQuery = z.strictObject({
	name: z.string().min(1).max(200).optional().describe("Substring of the name, any case."),
	limit: pageLimit,
	cursor,
});

export const ActivationsQuery = z.strictObject({
	license_id: z.string().min(1).max(64).optional(),
	hardware_id: hardwareId.optional(),
	active: z
		.enum(["true", "false"])
		.transform((v) => v === "true")
		.optional()
		.describe("true: still holding a seat; false: freed."),
	limit: pageLimit,
	cursor,
});

/**
 * The operator surface: license actions (./licenses.ts), webhook endpoints (./webhooks-out.ts),
 * invites, the launch dashboard.
 */
export const adminRoutes = new Hono<AppEnv>()
	.use(requireAdmin())
	.route("/licenses", operatorLicenseRoutes)
	.route("/webhooks", operatorWebhookRoutes)
	.post("/invites", validate("json", CreateInvitesBody), async (c) => {
		const { accounts } = c.get("services");
		const { count, label } = c.req.valid("json");
		return c.json(await accounts.createInvites(count, label), 201);
	})
	.get("/invites", validate("query", pageLimitCursor), async (c) => {
		const { db } = c.get("services");
		return c.json(await listInviteBatches(db, c.req.valid("query")), 200);
	})
	.get("/invites/:id", validate("param", InviteBatchParam), async (c) => {
		const { db } = c.get("services");
		return c.json(await inviteBatch(db, c.req.valid("param").id), 200);
	})
	.get("/users", validate("query", UsersQuery), async (c) => {
		const { db } = c.get("services");
		return c.json(await searchUsers(db, c.req.valid("query")), 200);
	})
	.get("/orgs", validate("query", OrgsQuery), async (c) => {
		const { db } = c.get("services");
		return c.json(await searchOrgs(db, c.req.valid("query")), 200);
	})
	.get("/activations", validate("query", ActivationsQuery), async (c) => {
		const { db } = c.get("services");
		return c.json(await searchActivations(db, c.req.valid("query")), 200);
	})
	.get("/audit", validate("query", AuditQuery), async (c) => {
		const { db } = c.get("services");
		return c.json(await readAudit(db, c.req.valid("query")), 200);
	})
	.get("/metrics", validate("query", MetricsQuery), async (c) => {
		// A dashboard may lag by Hyperdrive's cache (≤ 1 min); nothing is decided from it.
		const { cachedDb } = c.get("services");
		return c.json(await launchMetrics(cachedDb, c.req.valid("query").since), 200);
	})
	.get("/metrics/daily", validate("query", DailyQuery), async (c) => {
		const { cachedDb } = c.get("services");
		return c.json({ days: await launchSeries(cachedDb, c.req.valid("query").days ?? 30) }, 200);
	});
