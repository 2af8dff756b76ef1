/**
 * License lifecycle on the server: validate, activate, deactivate, and the operator actions.
 * No Hono types here: routes call these with validated input and turn results into JSON.
 */
import { and, count, eq, isNull, sql } from "drizzle-orm";
import { auditRow, type RequestMeta, recordAudit } from "../audit/log";
import type { Config } from "../config";
import type { Database, Queryable } from "../db/client";
import {
	activations,
	type LicenseStatus,
	licenses,
	type PlanEntitlements,
	plans,
	users,
} from "../db/schema";
import { ApiError, apiError } from "../errors";
import { newId } from "../ids";
import {
	generateLicenseKey,
	licenseKeyLast4,
	licenseTokenClaims,
	parseLicenseKey,
	signLicenseToken,
} from "../license/index";
import { evaluateLicense, type ValidationCode } from "../license/rules";
import { VALIDATE_SQL } from "./validation-sql";

export interface LicenseRow {
	id: string;
	planId: string;
	status: LicenseStatus;
	expiresAt: Date | null;
	graceUntil: Date | null;
	maxActivations: number;
	keyLast4: string;
	entitlements: PlanEntitlements;
}

export interface LicenseView {
	id: string;
	plan: string;
	status: LicenseStatus;
	expires_at: string | null;
	max_activations: number;
	key_last4: string;
	entitlements: PlanEntitlements;
}

export interface ActivationView {
	id: string;
	hardware_id: string;
	hostname: string | null;
	platform: string | null;
	created_at: string;
	last_validated_at: string | null;
}

export interface ValidateResult {
	valid: boolean;
	code: ValidationCode;
	license: LicenseView | null;
	token: string | null;
}

export interface ActivateInput {
	license_key: string;
	hardware_id: string;
	hostname?: string | undefined;
	platform?: string | undefined;
}

export interface ActivateResult {
	created: boolean;
	activation: ActivationView;
	license: LicenseView;
	token: string;
}

export interface CreateLicenseInput {
	plan: string;
	owner_email?: string | undefined;
	max_activations?: number | undefined;
	expires_at?: string | undefined;
}

export interface LicenseServiceDeps {
	db: Database;
	config: Config;
	meta: RequestMeta;
	now?: () => Date;
}

export type LicenseService = ReturnType<typeof licenseService>;

export function licenseService(deps: LicenseServiceDeps) {
	const { db, config, meta } = deps;
	const now = deps.now ?? (() => new Date());

	async function keyHashOf(licenseKey: string): Promise<string> {
		const parsed = parseLicenseKey(licenseKey);
		if (!parsed.ok) {
			throw new ApiError(
				"INVALID_REQUEST",
				"license_key is not a valid CODITECT license key; check it for typos.",
				{ extra: { fields: ["license_key"] } },
			);
		}
		return config.hashLicenseKey(parsed.key);
	}

	async function issueToken(license: LicenseRow, hardwareId: string, at: Date): Promise<string> {
		const { usableUntil } = evaluateLicense(license, at);
		const claims = licenseTokenClaims({
			issuer: config.issuer,
			licenseId: license.id,
			hardwareId,
			lic: {
				plan: license.planId,
				status: license.status,
				expires_at: license.expiresAt?.toISOString() ?? null,
				max_activations: license.maxActivations,
				entitlements: license.entitlements.features,
			},
			// A token never outlives the paid period or the payment grace.
			licenseExpiresAt: usableUntil,
			now: at,
		});
		return signLicenseToken(config.signingKey, claims);
	}

	return {
		/**
		 * One database round trip: a single statement finds the license by key hash, stamps this
		 * machine's activation and writes the audit row, so the audit entry cannot be lost once
		 * the answer is given. The statement's own clock decides, in SQL and here alike.
		 */
		async validate(input: { license_key: string; hardware_id: string }): Promise<ValidateResult> {
			const keyHash = await keyHashOf(input.license_key);
			const audit = auditRow(meta, { action: "license_validate", result: "" });
			const rows = await db.$client.unsafe<ValidateRow[]>(
				VALIDATE_SQL,
				[keyHash, input.hardware_id, audit.id, audit.ip ?? null, audit.userAgent ?? null],
				{ prepare: true },
			);
			const row = rows[0];
			if (!row || row.id === null) {
				return { valid: false, code: "NOT_FOUND", license: null, token: null };
			}
			const at = toDate(row.db_now) ?? now();
			const license: LicenseRow = {
				id: row.id,
				planId: row.plan_id,
				status: row.status,
				expiresAt: toDate(row.expires_at),
				graceUntil: toDate(row.grace_until),
				maxActivations: row.max_activations,
				keyLast4: row.key_last4,
				entitlements: row.entitlements,
			};
			const usability = evaluateLicense(license, at);
			let code: ValidationCode = usability.code;
			let valid = usability.usable;
			if (valid && row.activation_id === null) {
				code = "NOT_ACTIVATED";
				valid = false;
			}
			if (code !== row.code) {
				// The SQL mirror of evaluateLicense drifted: the audit row says otherwise. A bug, loudly.
				console.error(`validate: audit code ${row.code} differs from ${code} for ${license.id}`);
			}
			const token = valid ? await issueToken(license, input.hardware_id, at) : null;
			return { valid, code, license: licenseView(license), token };
		},

		/**
		 * The license row is locked for the whole check-count-insert, so concurrent activations
		 * on one license queue behind each other and the limit holds under any concurrency.
		 */
		async activate(input: ActivateInput): Promise<ActivateResult> {
			const keyHash = await keyHashOf(input.license_key);
			const outcome = await db.transaction(async (tx) => {
				const license = await lockLicense(tx, eq(licenses.keyHash, keyHash));
				if (!license) {
					// Unknown keys are audited too: a burst of them is someone guessing keys.
					await recordAudit(tx, meta, { action: "license_activate", result: "LICENSE_NOT_FOUND" });
					return { kind: "not_found" as const };
				}
				return activateLocked(tx, license, input, null);
			});
			return finishActivation(outcome, input.hardware_id);
		},

		/** Like activate, for a license the caller already resolved (owner routes); `userId` acts. */
		async activateById(
			licenseId: string,
			input: Omit<ActivateInput, "license_key">,
			userId: string,
		): Promise<ActivateResult> {
			const outcome = await db.transaction(async (tx) => {
				const license = await lockLicense(tx, eq(licenses.id, licenseId));
				if (!license) return { kind: "not_found" as const };
				return activateLocked(tx, license, input, userId);
			});
			return finishActivation(outcome, input.hardware_id);
		},

		async deactivate(input: { license_key: string; hardware_id: string }): Promise<void> {
			const keyHash = await keyHashOf(input.license_key);
			const found = await db.transaction(async (tx) => {
				const rows = await tx.execute<{ id: string; license_id: string }>(sql`
					update activations set deactivated_at = now()
					where hardware_id = ${input.hardware_id} and deactivated_at is null
						and license_id = (select id from licenses where key_hash = ${keyHash})
					returning id, license_id`);
				const row = rows[0];
				if (!row) {
					await recordAudit(tx, meta, {
						action: "license_deactivate",
						result: "ACTIVATION_NOT_FOUND",
					});
					return false;
				}
				await recordAudit(tx, meta, {
					action: "license_deactivate",
					result: "success",
					licenseId: row.license_id,
					detail: { activation_id: row.id },
				});
				return true;
			});
			if (!found) throw apiError("ACTIVATION_NOT_FOUND");
		},

		/** Operator: a comp, pilot or invoiced license. The key is returned once, here. */
		async create(
			input: CreateLicenseInput,
		): Promise<{ license: LicenseView; license_key: string }> {
			const plan = await db.query.plans.findFirst({ where: eq(plans.id, input.plan) });
			if (!plan) {
				throw new ApiError("INVALID_REQUEST", "Unknown plan.", { extra: { fields: ["plan"] } });
			}
			const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
			if (expiresAt && expiresAt.getTime() <= now().getTime()) {
				throw new ApiError("INVALID_REQUEST", "expires_at must be in the future.", {
					extra: { fields: ["expires_at"] },
				});
			}
			const email = input.owner_email?.toLowerCase();
			const key = generateLicenseKey();
			const id = newId("lic");
			const maxActivations =
				input.max_activations ?? plan.entitlements.seats * plan.entitlements.activations_per_seat;
			await db.transaction(async (tx) => {
				const owner = email
					? await tx.query.users.findFirst({ where: eq(users.email, email), columns: { id: true } })
					: undefined;
				await tx.insert(licenses).values({
					id,
					keyHash: await config.hashLicenseKey(key),
					keyLast4: licenseKeyLast4(key),
					planId: plan.id,
					ownerId: owner?.id ?? null,
					ownerEmail: owner ? null : (email ?? null),
					maxActivations,
					expiresAt,
					source: "admin",
				});
				await recordAudit(tx, meta, {
					action: "license_create",
					result: "success",
					licenseId: id,
					userId: owner?.id ?? null,
					detail: { plan: plan.id, source: "admin" },
				});
			});
			return {
				license: licenseView({
					id,
					planId: plan.id,
					status: "active",
					expiresAt,
					graceUntil: null,
					maxActivations,
					keyLast4: licenseKeyLast4(key),
					entitlements: plan.entitlements,
				}),
				license_key: key,
			};
		},

		/** Operator: suspend / reinstate / revoke. Revocation is final. */
		async setStatus(
			licenseId: string,
			action: "suspend" | "reinstate" | "revoke",
		): Promise<LicenseView> {
			return db.transaction(async (tx) => {
				const license = await lockLicense(tx, eq(licenses.id, licenseId));
				if (!license) throw apiError("LICENSE_NOT_FOUND", "No license has this id.");
				if (license.status === "revoked" && action !== "revoke") {
					throw apiError("CONFLICT", "A revoked license cannot be reinstated.");
				}
				const next: LicenseStatus =
					action === "suspend" ? "suspended" : action === "revoke" ? "revoked" : "active";
				await tx
					.update(licenses)
					.set({ status: next, updatedAt: now() })
					.where(eq(licenses.id, licenseId));
				await recordAudit(tx, meta, {
					action: "license_status_change",
					result: next,
					licenseId,
					detail: { from: license.status, operator_action: action },
				});
				return licenseView({ ...license, status: next });
			});
		},
	};

	async function activateLocked(
		tx: Queryable,
		license: LicenseRow,
		input: Omit<ActivateInput, "license_key">,
		userId: string | null,
	): Promise<ActivationOutcome> {
		const at = now();
		const usability = evaluateLicense(license, at);
		if (!usability.usable && usability.code !== "VALID") {
			await recordAudit(tx, meta, {
				action: "license_activate",
				result: usability.code,
				licenseId: license.id,
				userId,
			});
			return { kind: "unusable", code: usability.code, license };
		}
		const existing = await tx.query.activations.findFirst({
			where: and(
				eq(activations.licenseId, license.id),
				eq(activations.hardwareId, input.hardware_id),
				isNull(activations.deactivatedAt),
			),
		});
		if (existing) {
			// A repeated activation answers 200 and hands out a new token: audited like the first.
			await recordAudit(tx, meta, {
				action: "license_activate",
				result: "existing",
				licenseId: license.id,
				userId,
				detail: { activation_id: existing.id },
			});
			return { kind: "ok", created: false, activation: existing, license };
		}
		const [active] = await tx
			.select({ n: count() })
			.from(activations)
			.where(and(eq(activations.licenseId, license.id), isNull(activations.deactivatedAt)));
		const inUse = active?.n ?? 0;
		if (inUse >= license.maxActivations) {
			await recordAudit(tx, meta, {
				action: "license_activate",
				result: "ACTIVATION_LIMIT_REACHED",
				licenseId: license.id,
				userId,
			});
			return { kind: "limit", license, active: inUse };
		}
		const [activation] = await tx
			.insert(activations)
			.values({
				id: newId("act"),
				licenseId: license.id,
				hardwareId: input.hardware_id,
				hostname: input.hostname ?? null,
				platform: input.platform ?? null,
				lastValidatedAt: at,
			})
			.returning();
		if (!activation) throw new Error("insert returned no row");
		await recordAudit(tx, meta, {
			action: "license_activate",
			result: "success",
			licenseId: license.id,
			userId,
			detail: { activation_id: activation.id },
		});
		return { kind: "ok", created: true, activation, license };
	}

	async function finishActivation(
		outcome: ActivationOutcome | { kind: "not_found" },
		hardwareId: string,
	): Promise<ActivateResult> {
		switch (outcome.kind) {
			case "not_found":
				throw apiError("LICENSE_NOT_FOUND");
			case "unusable":
				throw new ApiError(
					outcome.code,
					unusableMessage[outcome.code] ?? "This license cannot be used.",
					{
						extra: { license_status: outcome.license.status },
					},
				);
			case "limit":
				throw apiError("ACTIVATION_LIMIT_REACHED", undefined, {
					max_activations: outcome.license.maxActivations,
					active: outcome.active,
				});
			case "ok": {
				const token = await issueToken(outcome.license, hardwareId, now());
				return {
					created: outcome.created,
					activation: activationView(outcome.activation),
					license: licenseView(outcome.license),
					token,
				};
			}
		}
	}
}

interface ValidateRow {
	id: string | null;
	plan_id: string;
	status: LicenseStatus;
	expires_at: Date | string | null;
	grace_until: Date | string | null;
	max_activations: number;
	key_last4: string;
	entitlements: PlanEntitlements;
	activation_id: string | null;
	code: ValidationCode;
	db_now: Date | string;
}

type ActivationOutcome =
	| {
			kind: "unusable";
			code: Exclude<ValidationCode, "VALID" | "NOT_FOUND" | "NOT_ACTIVATED">;
			license: LicenseRow;
	  }
	| { kind: "limit"; license: LicenseRow; active: number }
	| {
			kind: "ok";
			created: boolean;
			activation: typeof activations.$inferSelect;
			license: LicenseRow;
	  };

const unusableMessage: Partial<Record<ValidationCode, string>> = {
	EXPIRED: "This license has expired. Renew the subscription to keep using it.",
	SUSPENDED: "This license is suspended. Contact support.",
	REVOKED: "This license has been revoked.",
	PAST_DUE:
		"The last payment for this license failed and the payment grace period has ended. Update the payment method in the billing portal (POST /api/v1/billing/portal, or the link in Stripe's payment-failed email); the license works again once the payment goes through.",
};

/** The columns of a LicenseRow; select from licenses joined with plans. */
export const licenseRowColumns = {
	id: licenses.id,
	planId: licenses.planId,
	status: licenses.status,
	expiresAt: licenses.expiresAt,
	graceUntil: licenses.graceUntil,
	maxActivations: licenses.maxActivations,
	keyLast4: licenses.keyLast4,
	entitlements: plans.entitlements,
};

async function lockLicense(
	tx: Queryable,
	where: ReturnType<typeof eq>,
): Promise<LicenseRow | undefined> {
	const [row] = await tx
		.select(licenseRowColumns)
		.from(licenses)
		.innerJoin(plans, eq(plans.id, licenses.planId))
		.where(where)
		.for("update", { of: licenses });
	return row;
}

export function licenseView(l: LicenseRow): LicenseView {
	return {
		id: l.id,
		plan: l.planId,
		status: l.status,
		expires_at: l.expiresAt?.toISOString() ?? null,
		max_activations: l.maxActivations,
		key_last4: l.keyLast4,
		entitlements: l.entitlements,
	};
}

export function activationView(a: typeof activations.$inferSelect): ActivationView {
	return {
		id: a.id,
		hardware_id: a.hardwareId,
		hostname: a.hostname,
		platform: a.platform,
		created_at: a.createdAt.toISOString(),
		last_validated_at: a.lastValidatedAt?.toISOString() ?? null,
	};
}

function toDate(v: Date | string | null): Date | null {
	if (v === null) return null;
	return v instanceof Date ? v : new Date(v);
}
