/**
 * Every license route, in three groups by who holds the credential: the license key, the
 * owner's access token, the operator's ADMIN_TOKEN (mounted inside the admin routes).
 */
import { type Context, Hono } from "hono";
import * as z from "zod";
import { LICENSE_STATUSES } from "../db/schema";
import { parseLicenseKey } from "../kernel/license-key";
import type { Uploader } from "../licenses";
import {
	OFFLINE_RELEASE_FORMAT,
	OFFLINE_REQUEST_FORMAT,
	type OfflineRelease,
	type OfflineRequest,
} from "../licenses/offline";
import { MAX_PAGE, searchLicenses } from "../licenses/search";
import { requireUser } from "../middleware/auth";
import { rateLimit } from "../middleware/rate-limit";
import { jsonAnswer } from "../middleware/security-headers";
import { validate } from "../middleware/validate";
import type { AppEnv } from "../services";
import { email, hardwareId, hostname, licenseKey, NoBody, platform } from "./schemas";

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

/** Key holder: the license key is the credential. */
export const keyHolderRoutes = new Hono<AppEnv>()
	.post(
		"/validate",
		validate("json", ValidateBody),
		rateLimit("validate", perLicenseKey),
		// The hot path: every header in one plain record (see jsonAnswer); not async, so one
		// `.then` on the use case's promise rather than an async function awaiting it.
		(c) =>
			c
				.get("services")
				.licenses.validate(c.req.valid("json"))
				.then((result) => jsonAnswer(c, result, 200)),
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

const id = z.string().min(1).max(64);
const LicenseParam = z.strictObject({ id });
const ActivationParam = z.strictObject({ id, activation_id: id });
const ActivateMineBody = z.strictObject({
	hardware_id: hardwareId,
	hostname: hostname.optional(),
	platform: platform.optional(),
});

const base64url = (min: number, max: number) =>
	z
		.string()
		.min(min)
		.max(max)
		.regex(/^[A-Za-z0-9_-]+$/);

/** The request file of an air-gapped machine, uploaded as it is (docs/offline-activation.md). */
export const OfflineRequestBody = z.strictObject({
	format: z.literal(OFFLINE_REQUEST_FORMAT),
	version: z.literal(1),
	license_id: id,
	hardware_id: hardwareId,
	hostname: hostname.optional(),
	platform: platform.optional(),
	nonce: base64url(22, 86).describe("Random, at least 128 bits, base64url."),
	machine_key: z.strictObject({
		kty: z.literal("OKP"),
		crv: z.literal("Ed25519"),
		x: base64url(43, 43).describe("The machine's Ed25519 public key, 32 bytes base64url."),
	}),
	created_at: z.iso.datetime({ offset: true }),
}) satisfies z.ZodType<OfflineRequest>;

/** The release receipt file of an air-gapped machine, uploaded as it is. */
export const OfflineReleaseBody = z.strictObject({
	format: z.literal(OFFLINE_RELEASE_FORMAT),
	version: z.literal(1),
	license_id: id,
	activation_id: id,
	receipt: z
		.string()
		.min(1)
		.max(2048)
		.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
		.describe("Compact JWS signed by the machine key (typ coditect-offline-release+jwt)."),
}) satisfies z.ZodType<OfflineRelease>;

type OfflineUploadContext = Context<
	AppEnv,
	string,
	{
		out: {
			param: z.infer<typeof LicenseParam>;
			json: z.infer<typeof OfflineRequestBody>;
		};
	}
>;
type OfflineReleaseContext = Context<
	AppEnv,
	string,
	{
		out: {
			param: z.infer<typeof LicenseParam>;
			json: z.infer<typeof OfflineReleaseBody>;
		};
	}
>;

/** The two offline uploads, shared by the owner and operator routes; `by` says who acts. */
async function uploadOfflineRequest(c: OfflineUploadContext, by: Uploader) {
	const { licenses } = c.get("services");
	const file = await licenses.activateOffline(c.req.valid("param").id, c.req.valid("json"), by);
	return c.json(file, file.created ? 201 : 200);
}

async function uploadOfflineRelease(c: OfflineReleaseContext, by: Uploader) {
	const { licenses } = c.get("services");
	return c.json(
		await licenses.deactivateOffline(c.req.valid("param").id, c.req.valid("json"), by),
		200,
	);
}

/** Owner: Bearer access token, own licenses only (another user's is a 404). */
export const ownerLicenseRoutes = new Hono<AppEnv>()
	.get("/", requireUser(), async (c) => {
		const { licenses } = c.get("services");
		return c.json({ licenses: await licenses.listOwned(c.get("user").id) }, 200);
	})
	.post(
		"/activate-mine",
		requireUser(),
		// Same budget as activate by key, counted per account.
		rateLimit("activate", (c) => c.get("user").id),
		validate("json", ActivateMineBody),
		async (c) => {
			const { licenses } = c.get("services");
			const { created, ...result } = await licenses.activateMine(
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
			const { licenses } = c.get("services");
			return c.json(await licenses.reissueKey(c.get("user").id, c.req.valid("param").id), 201);
		},
	)
	.post(
		"/:id/activations/:activation_id/token",
		requireUser(),
		validate("param", ActivationParam),
		// A check, not an activation: the validate budget, per machine.
		rateLimit("validate", (c) => c.req.param("activation_id") ?? null),
		validate("json", NoBody),
		async (c) => {
			const { licenses } = c.get("services");
			const { id: licenseId, activation_id: activationId } = c.req.valid("param");
			return c.json(
				await licenses.refreshActivation(c.get("user").id, licenseId, activationId),
				200,
			);
		},
	)
	.delete(
		"/:id/activations/:activation_id",
		requireUser(),
		validate("param", ActivationParam),
		validate("json", NoBody),
		async (c) => {
			const { licenses } = c.get("services");
			const { id: licenseId, activation_id: activationId } = c.req.valid("param");
			await licenses.freeActivation(c.get("user").id, licenseId, activationId);
			return c.body(null, 204);
		},
	)
	.post(
		"/:id/offline-activations",
		requireUser(),
		validate("param", LicenseParam),
		validate("json", OfflineRequestBody),
		// An upload is an activation: the same budget as activate-mine, per account. Counted
		// after validation, like activate by key: a file that is not a request costs nothing.
		rateLimit("activate", (c) => c.get("user").id),
		(c) => uploadOfflineRequest(c, { kind: "user", userId: c.get("user").id }),
	)
	.post(
		"/:id/offline-deactivations",
		requireUser(),
		validate("param", LicenseParam),
		validate("json", OfflineReleaseBody),
		(c) => uploadOfflineRelease(c, { kind: "user", userId: c.get("user").id }),
	);

const CreateLicenseBody = z.strictObject({
	plan: z.string().min(1).max(32),
	owner_email: email.optional(),
	max_activations: z.number().int().min(0).max(100_000).optional(),
	expires_at: z.iso.datetime({ offset: true }).optional(),
	seats: z.number().int().min(1).max(100_000).optional(),
	org_id: z.string().min(1).max(64).optional(),
});

export const UpdateLicenseBody = z
	.strictObject({
		plan: z.string().min(1).max(32).optional(),
		max_activations: z.number().int().min(0).max(100_000).optional(),
		expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
		owner_email: email.nullable().optional(),
	})
	.refine((b) => Object.keys(b).length > 0, "name at least one field to change");

/** `?limit=` of every operator list. */
export const pageLimit = z
	.string()
	.regex(/^\d{1,3}$/)
	.transform(Number)
	.pipe(z.number().int().min(1).max(MAX_PAGE))
	.optional()
	.describe(`Page size, 1–${MAX_PAGE} (default 50).`);

const stripeId = z.string().min(1).max(255);
export const SearchLicensesQuery = z.strictObject({
	email: z.string().min(1).max(254).optional().describe("Substring of the owner's email."),
	key_last4: z
		.string()
		.regex(/^[A-Za-z0-9]{4}$/)
		.optional()
		.describe("The key's last 4 characters."),
	status: z.enum(LICENSE_STATUSES).optional(),
	plan: z.string().min(1).max(32).optional(),
	stripe_customer_id: stripeId.optional(),
	stripe_subscription_id: stripeId.optional(),
	limit: pageLimit,
	cursor: z.string().min(1).max(200).optional().describe("`next_cursor` of the previous page."),
});

/** Operator: mounted at /api/v1/admin/licenses, behind the admin routes' requireAdmin(). */
export const operatorLicenseRoutes = new Hono<AppEnv>()
	.get("/", validate("query", SearchLicensesQuery), async (c) => {
		const { db } = c.get("services");
		return c.json(await searchLicenses(db, c.req.valid("query")), 200);
	})
	.post("/", validate("json", CreateLicenseBody), async (c) => {
		const { licenses } = c.get("services");
		return c.json(await licenses.create(c.req.valid("json")), 201);
	})
	.patch(
		"/:id",
		validate("param", LicenseParam),
		validate("json", UpdateLicenseBody),
		async (c) => {
			const { licenses } = c.get("services");
			return c.json(
				{ license: await licenses.update(c.req.valid("param").id, c.req.valid("json")) },
				200,
			);
		},
	)
	.post(
		"/:id/:action{suspend|reinstate|revoke}",
		validate("param", LicenseParam.extend({ action: z.enum(["suspend", "reinstate", "revoke"]) })),
		validate("json", NoBody),
		async (c) => {
			const { licenses } = c.get("services");
			const { id, action } = c.req.valid("param");
			return c.json({ license: await licenses.setStatus(id, action) }, 200);
		},
	)
	.post(
		"/:id/offline-activations",
		validate("param", LicenseParam),
		validate("json", OfflineRequestBody),
		(c) => uploadOfflineRequest(c, { kind: "operator" }),
	)
	.post(
		"/:id/offline-deactivations",
		validate("param", LicenseParam),
		validate("json", OfflineReleaseBody),
		(c) => uploadOfflineRelease(c, { kind: "operator" }),
	);
