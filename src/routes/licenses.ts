import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { parseLicenseKey } from "../license/index";
import { validate } from "../middleware/validate";
import { rateLimit } from "../ratelimit/limiter";
import { hardwareId, hostname, licenseKey, platform } from "./schemas";

const ValidateBody = z.strictObject({ license_key: licenseKey, hardware_id: hardwareId });
const ActivateBody = z.strictObject({
	license_key: licenseKey,
	hardware_id: hardwareId,
	hostname: hostname.optional(),
	platform: platform.optional(),
});
const DeactivateBody = ValidateBody;

/** Limits count per license, whatever spelling of the key the client sends. */
const perLicenseKey = (c: {
	req: { valid(t: "json"): { license_key: string } };
}): string | null => {
	const parsed = parseLicenseKey(c.req.valid("json").license_key);
	return parsed.ok ? parsed.key : null;
};

/** Key-holder routes (SPEC §3.3): the license key is the credential. */
export const licenseKeyRoutes = new Hono<AppEnv>()
	.post(
		"/validate",
		validate("json", ValidateBody),
		rateLimit("validate", perLicenseKey),
		async (c) => {
			const { licenses } = c.get("services");
			return c.json(await licenses.validate(c.req.valid("json")), 200);
		},
	)
	.post(
		"/activate",
		validate("json", ActivateBody),
		rateLimit("activate", perLicenseKey),
		async (c) => {
			const { licenses } = c.get("services");
			const { created, ...result } = await licenses.activate(c.req.valid("json"));
			return c.json(result, created ? 201 : 200);
		},
	)
	.post("/deactivate", validate("json", DeactivateBody), async (c) => {
		const { licenses } = c.get("services");
		await licenses.deactivate(c.req.valid("json"));
		return c.json({ deactivated: true }, 200);
	});
