/**
 * Organisations and named seats (Bearer user session). A caller who is not a member gets 404;
 * a member without the role, 403 FORBIDDEN.
 */
import { Hono } from "hono";
import * as z from "zod";
import { ORG_ROLES } from "../db/schema";
import { requireUser } from "../middleware/auth";
import { validate } from "../middleware/validate";
import type { AppEnv } from "../services";
import { email, NoBody } from "./schemas";

const id = z.string().min(1).max(64);
const OrgParam = z.strictObject({ id });
const MemberParam = z.strictObject({ id, user_id: id });
const CreateOrgBody = z.strictObject({ name: z.string().trim().min(1).max(100) });
const InviteBody = z.strictObject({
	email,
	role: z.enum(["admin", "member"]).default("member"),
});
const RoleBody = z.strictObject({ role: z.enum(ORG_ROLES) });
const AcceptBody = z.strictObject({ code: z.string().min(1).max(64) });

export const orgRoutes = new Hono<AppEnv>()
	.post("/", requireUser(), validate("json", CreateOrgBody), async (c) => {
		const { orgs } = c.get("services");
		return c.json(await orgs.create(c.get("user").id, c.req.valid("json").name), 201);
	})
	.get("/", requireUser(), async (c) => {
		const { orgs } = c.get("services");
		return c.json({ orgs: await orgs.listMine(c.get("user").id) }, 200);
	})
	.get("/:id", requireUser(), validate("param", OrgParam), async (c) => {
		const { orgs } = c.get("services");
		return c.json(await orgs.dashboard(c.req.valid("param").id, c.get("user").id), 200);
	})
	.post(
		"/:id/invitations",
		requireUser(),
		validate("param", OrgParam),
		validate("json", InviteBody),
		async (c) => {
			const { orgs } = c.get("services");
			const body = c.req.valid("json");
			return c.json(await orgs.invite(c.req.valid("param").id, c.get("user").id, body), 201);
		},
	)
	.patch(
		"/:id/members/:user_id",
		requireUser(),
		validate("param", MemberParam),
		validate("json", RoleBody),
		async (c) => {
			const { orgs } = c.get("services");
			const { id: orgId, user_id } = c.req.valid("param");
			const { role } = c.req.valid("json");
			return c.json(await orgs.changeRole(orgId, c.get("user").id, user_id, role), 200);
		},
	)
	.delete(
		"/:id/members/:user_id",
		requireUser(),
		validate("param", MemberParam),
		validate("json", NoBody),
		async (c) => {
			const { orgs } = c.get("services");
			const { id: orgId, user_id } = c.req.valid("param");
			return c.json(await orgs.removeMember(orgId, c.get("user").id, user_id), 200);
		},
	);

/** POST /api/v1/invitations/accept: the invited address takes a seat. */
export const invitationRoutes = new Hono<AppEnv>().post(
	"/accept",
	requireUser(),
	validate("json", AcceptBody),
	async (c) => {
		const { orgs } = c.get("services");
		const user = c.get("user");
		const { created, ...result } = await orgs.accept(user, c.req.valid("json").code);
		return c.json(result, created ? 201 : 200);
	},
);
