/**
 * CI runners. Org admins (Bearer session) manage API keys and trust rules under
 * /api/v1/orgs/:id; jobs (Bearer API key, CI ID token or lease token) lease slots under
 * /api/v1/ci.
 */
import { Hono, type MiddlewareHandler } from "hono";
import * as z from "zod";
import { bearerOf } from "../ci/caller";
import { CI_LEASE_MAX_TTL_S, CI_LEASE_MIN_TTL_S } from "../kernel/token/ci";
import { requireUser } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { documented } from "../openapi/tags";
import { addressBucket } from "../ratelimit/limiter";
import type { AppEnv } from "../services";
import { hasControlChars } from "../text";
import { NoBody } from "./schemas";

const id = z.string().min(1).max(64);
const printable = (max: number) =>
	z
		.string()
		.min(1)
		.max(max)
		.refine((s) => !hasControlChars(s), "control characters are not allowed");

const OrgParam = z.strictObject({ id });
const OrgKeyParam = z.strictObject({ id, key_id: id });
const OrgRuleParam = z.strictObject({ id, rule_id: id });
const LeaseParam = z.strictObject({ id });

const CreateKeyBody = z.strictObject({ name: printable(100) });
const claimName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/);
const CreateRuleBody = z.strictObject({
	name: printable(100),
	issuer: z.string().min(1).max(512),
	audience: printable(512).optional(),
	conditions: z
		.record(claimName, printable(256))
		.refine((c) => Object.keys(c).length >= 1 && Object.keys(c).length <= 16, {
			message: "between 1 and 16 conditions",
		}),
});
const ttl = z.number().int().min(CI_LEASE_MIN_TTL_S).max(CI_LEASE_MAX_TTL_S);
const AcquireBody = z.strictObject({
	job_id: printable(255),
	runner: printable(255).optional(),
	ttl_s: ttl.optional(),
	/** Only needed when an ID token satisfies trust rules of more than one org. */
	org_id: id.optional(),
});
const HeartbeatBody = z.strictObject({ ttl_s: ttl.optional() });

/** Documents the CI credential; checking it is the service's (it decides which kind it is). */
const ciCredential: MiddlewareHandler<AppEnv> = documented(async (_c, next) => next(), {
	kind: "auth",
	scheme: "ci",
});

/** Mounted at /api/v1/orgs beside the org routes. */
export const orgCiRoutes = new Hono<AppEnv>()
	.post(
		"/:id/api-keys",
		requireUser(),
		validate("param", OrgParam),
		validate("json", CreateKeyBody),
		async (c) => {
			const { ci } = c.get("services");
			const { id: orgId } = c.req.valid("param");
			return c.json(await ci.createApiKey(c.get("user").id, orgId, c.req.valid("json").name), 201);
		},
	)
	.get("/:id/api-keys", requireUser(), validate("param", OrgParam), async (c) => {
		const { ci } = c.get("services");
		const keys = await ci.listApiKeys(c.get("user").id, c.req.valid("param").id);
		return c.json({ api_keys: keys }, 200);
	})
	.delete(
		"/:id/api-keys/:key_id",
		requireUser(),
		validate("param", OrgKeyParam),
		validate("json", NoBody),
		async (c) => {
			const { ci } = c.get("services");
			const { id: orgId, key_id: keyId } = c.req.valid("param");
			await ci.revokeApiKey(c.get("user").id, orgId, keyId);
			return c.body(null, 204);
		},
	)
	.post(
		"/:id/ci-trust-rules",
		requireUser(),
		validate("param", OrgParam),
		validate("json", CreateRuleBody),
		async (c) => {
			const { ci } = c.get("services");
			const rule = await ci.createTrustRule(
				c.get("user").id,
				c.req.valid("param").id,
				c.req.valid("json"),
			);
			return c.json({ trust_rule: rule }, 201);
		},
	)
	.get("/:id/ci-trust-rules", requireUser(), validate("param", OrgParam), async (c) => {
		const { ci } = c.get("services");
		const rules = await ci.listTrustRules(c.get("user").id, c.req.valid("param").id);
		return c.json({ trust_rules: rules }, 200);
	})
	.delete(
		"/:id/ci-trust-rules/:rule_id",
		requireUser(),
		validate("param", OrgRuleParam),
		validate("json", NoBody),
		async (c) => {
			const { ci } = c.get("services");
			const { id: orgId, rule_id: ruleId } = c.req.valid("param");
			await ci.revokeTrustRule(c.get("user").id, orgId, ruleId);
			return c.body(null, 204);
		},
	);

/** Mounted at /api/v1/ci. */
export const ciRoutes = new Hono<AppEnv>()
	.post(
		"/leases",
		ciCredential,
		rateLimit("ci_lease", (c) => {
			const ip = c.get("services").meta.ip;
			return ip ? addressBucket(ip) : null;
		}),
		validate("json", AcquireBody),
		async (c) => {
			const { ci } = c.get("services");
			const bearer = bearerOf(c.req.header("authorization"));
			const { created, lease } = await ci.acquire(bearer, c.req.valid("json"));
			return c.json(lease, created ? 201 : 200);
		},
	)
	.post(
		"/leases/:id/heartbeat",
		ciCredential,
		validate("param", LeaseParam),
		validate("json", HeartbeatBody),
		async (c) => {
			const { ci } = c.get("services");
			const bearer = bearerOf(c.req.header("authorization"));
			const lease = await ci.heartbeat(bearer, c.req.valid("param").id, c.req.valid("json").ttl_s);
			return c.json(lease, 200);
		},
	)
	.delete(
		"/leases/:id",
		ciCredential,
		validate("param", LeaseParam),
		validate("json", NoBody),
		async (c) => {
			const { ci } = c.get("services");
			await ci.release(bearerOf(c.req.header("authorization")), c.req.valid("param").id);
			return c.body(null, 204);
		},
	);
