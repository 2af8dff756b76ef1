import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { requireUser } from "../middleware/auth";
import { validate } from "../middleware/validate";
import { rateLimit } from "../ratelimit/limiter";
import { hardwareId, hostname, NoBody, platform } from "./schemas";

const id = z.string().min(1).max(64);
const LicenseParam = z.strictObject({ id });
const ActivationParam = z.strictObject({ id, activation_id: id });
const ActivateMineBody = z.strictObject({
	hardware_id: hardwareId,
	hostname: hostname.optional(),
	platform: platform.optional(),
});

/** GET /api/v1/me */
export const meRoutes = new Hono<AppEnv>().use(requireUser()).get("/", async (c) => {
	const { owner } = c.get("services");
	const user = c.get("user");
	return c.json(
		{ user: { id: user.id, email: user.email }, licenses: await owner.list(user.id) },
		200,
	);
});

/** Owner routes under /api/v1/licenses (SPEC §3.3): Bearer access token, own objects only. */
export const ownerLicenseRoutes = new Hono<AppEnv>()
	.get("/", requireUser(), async (c) => {
		const { owner } = c.get("services");
		return c.json({ licenses: await owner.list(c.get("user").id) }, 200);
	})
	.post(
		"/activate-mine",
		requireUser(),
		// Same budget as activate by key, counted per account.
		rateLimit("activate", (c) => c.get("user").id),
		validate("json", ActivateMineBody),
		async (c) => {
			const { owner } = c.get("services");
			const { created, ...result } = await owner.activateMine(
				c.get("user").id,
				c.req.valid("json"),
			);
			return c.json(result, created ? 201 : 200);
		},
	)
	.post(
		"/:id/keys",
		requireUser(),
		validate("param", LicenseParam),
		validate("json", NoBody),
		async (c) => {
			const { owner } = c.get("services");
			return c.json(await owner.reissueKey(c.get("user").id, c.req.valid("param").id), 201);
		},
	)
	.delete(
		"/:id/activations/:activation_id",
		requireUser(),
		validate("param", ActivationParam),
		validate("json", NoBody),
		async (c) => {
			const { owner } = c.get("services");
			const { id: licenseId, activation_id: activationId } = c.req.valid("param");
			await owner.freeActivation(c.get("user").id, licenseId, activationId);
			return c.body(null, 204);
		},
	);
