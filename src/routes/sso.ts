/**
 * An org's single sign-on settings (Bearer session; owners and admins of SMB / Enterprise
 * orgs). Mounted at /api/v1/orgs beside the org routes. A caller who is not a member gets 404.
 */
import { Hono } from "hono";
import * as z from "zod";
import { requireUser } from "../middleware/auth";
import { validate } from "../middleware/validate";
import type { AppEnv } from "../services";
import { NoBody } from "./schemas";

const id = z.string().min(1).max(64);
const domain = z.string().min(1).max(253);
const OrgParam = z.strictObject({ id });
const DomainParam = z.strictObject({ id, domain });
const ConnectionBody = z.strictObject({
	issuer: z.string().min(1).max(512),
	client_id: z.string().min(1).max(256),
	/** Required the first time; left out, the stored secret is kept. */
	client_secret: z.string().min(1).max(1024).optional(),
	password_login_disabled: z.boolean().optional(),
});
const DomainBody = z.strictObject({ domain });

export const orgSsoRoutes = new Hono<AppEnv>()
	.get("/:id/sso", requireUser(), validate("param", OrgParam), async (c) => {
		const { sso } = c.get("services");
		return c.json(await sso.get(c.get("user").id, c.req.valid("param").id), 200);
	})
	.put(
		"/:id/sso",
		requireUser(),
		validate("param", OrgParam),
		validate("json", ConnectionBody),
		async (c) => {
			const { sso } = c.get("services");
			const { id: orgId } = c.req.valid("param");
			return c.json(await sso.configure(c.get("user").id, orgId, c.req.valid("json")), 200);
		},
	)
	.delete(
		"/:id/sso",
		requireUser(),
		validate("param", OrgParam),
		validate("json", NoBody),
		async (c) => {
			const { sso } = c.get("services");
			await sso.remove(c.get("user").id, c.req.valid("param").id);
			return c.body(null, 204);
		},
	)
	.post(
		"/:id/sso/domains",
		requireUser(),
		validate("param", OrgParam),
		validate("json", DomainBody),
		async (c) => {
			const { sso } = c.get("services");
			const { id: orgId } = c.req.valid("param");
			return c.json(await sso.addDomain(c.get("user").id, orgId, c.req.valid("json").domain), 201);
		},
	)
	.post(
		"/:id/sso/domains/:domain/verify",
		requireUser(),
		validate("param", DomainParam),
		validate("json", NoBody),
		async (c) => {
			const { sso } = c.get("services");
			const { id: orgId, domain: d } = c.req.valid("param");
			return c.json(await sso.verifyDomain(c.get("user").id, orgId, d), 200);
		},
	)
	.delete(
		"/:id/sso/domains/:domain",
		requireUser(),
		validate("param", DomainParam),
		validate("json", NoBody),
		async (c) => {
			const { sso } = c.get("services");
			const { id: orgId, domain: d } = c.req.valid("param");
			await sso.removeDomain(c.get("user").id, orgId, d);
			return c.body(null, 204);
		},
	);
