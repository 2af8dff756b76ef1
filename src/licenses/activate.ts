/**
 * Activating a machine on a license, and freeing it again. The license row is locked for the
 * whole check-count-insert, so concurrent activations on one license queue behind each other
 * and the limit holds under any concurrency.
 */
import { and, count, eq, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import type { Queryable } from "../db/client";
import { activations, licenses } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { newId } from "../ids";
import { evaluateLicense, type ValidationCode } from "../kernel/rules";
import { enqueue } from "../webhooks/outbox";
import type { LicenseContext } from "./context";
import { issueLicenseToken } from "./issue-token";
import { keyHashOf, type LicenseRow, lockLicense } from "./queries";
import { type ActivationView, activationView, type LicenseView, licenseView } from "./views";

export interface MachineInput {
	hardware_id: string;
	hostname?: string | undefined;
	platform?: string | undefined;
}

export interface ActivateInput extends MachineInput {
	license_key: string;
}

/** An org member activating under their named seat. */
export interface SeatHolder {
	org: string;
	/** The membership id (`seat_…`), carried in the token's `seat` claim. */
	seat: string;
	/** Machines one seat may hold: the plan's `activations_per_seat`. */
	perSeat: number;
}

export interface ActivateResult {
	created: boolean;
	activation: ActivationView;
	license: LicenseView;
	token: string;
}

/** Activates by license key (the key is the credential). */
export async function activateByKey(
	ctx: LicenseContext,
	input: ActivateInput,
): Promise<ActivateResult> {
	const keyHash = await keyHashOf(ctx.config, input.license_key);
	const outcome = await ctx.db.transaction(async (tx) => {
		const license = await lockLicense(tx, eq(licenses.keyHash, keyHash));
		if (!license) {
			// Unknown keys are audited too: a burst of them is someone guessing keys.
			await recordAudit(tx, ctx.meta, { action: "license_activate", result: "LICENSE_NOT_FOUND" });
			return { kind: "not_found" as const };
		}
		return activateLocked(ctx, tx, license, input, null);
	});
	return finishActivation(ctx, outcome, input.hardware_id);
}

/**
 * Activates a license the caller already resolved (owner routes); `userId` acts, under
 * `seat` when the license is an org's.
 */
export async function activateById(
	ctx: LicenseContext,
	licenseId: string,
	input: MachineInput,
	userId: string,
	seat?: SeatHolder,
): Promise<ActivateResult> {
	const outcome = await ctx.db.transaction(async (tx) => {
		// The seat before the license, the order removal takes them in (org, then seat): held for
		// the rest of the transaction, so removing this member waits for us and then frees this
		// machine too. Gone already: the seat is no longer theirs to use.
		if (seat && !(await holdSeat(tx, seat))) return { kind: "not_found" as const };
		const license = await lockLicense(tx, eq(licenses.id, licenseId));
		if (!license) return { kind: "not_found" as const };
		return activateLocked(ctx, tx, license, input, userId, seat);
	});
	return finishActivation(ctx, outcome, input.hardware_id);
}

/** Frees this machine's seat on the license the key names. */
export async function deactivateByKey(
	ctx: LicenseContext,
	input: { license_key: string; hardware_id: string },
): Promise<void> {
	const keyHash = await keyHashOf(ctx.config, input.license_key);
	const found = await ctx.db.transaction(async (tx) => {
		const rows = await tx.execute<{ id: string; license_id: string }>(sql`
			update activations set deactivated_at = now()
			where hardware_id = ${input.hardware_id} and deactivated_at is null
				and license_id = (select id from licenses where key_hash = ${keyHash})
			returning id, license_id`);
		const row = rows[0];
		if (!row) {
			await recordAudit(tx, ctx.meta, {
				action: "license_deactivate",
				result: "ACTIVATION_NOT_FOUND",
			});
			return false;
		}
		await recordAudit(tx, ctx.meta, {
			action: "license_deactivate",
			result: "success",
			licenseId: row.license_id,
			detail: { activation_id: row.id },
		});
		await activationRemoved(tx, row.license_id, row.id);
		return true;
	});
	if (!found) throw apiError("ACTIVATION_NOT_FOUND");
}

async function holdSeat(tx: Queryable, seat: SeatHolder): Promise<boolean> {
	const held = await tx.execute(
		sql`select 1 from org_members where id = ${seat.seat} and org_id = ${seat.org} for share`,
	);
	return held.length > 0;
}

export type ActivationOutcome =
	| { kind: "not_found" }
	| {
			kind: "unusable";
			code: Exclude<ValidationCode, "VALID" | "NOT_FOUND" | "NOT_ACTIVATED">;
			license: LicenseRow;
	  }
	| { kind: "limit"; license: LicenseRow; max: number; active: number }
	| {
			kind: "ok";
			created: boolean;
			activation: typeof activations.$inferSelect;
			license: LicenseRow;
			seat?: { org: string; seat: string } | undefined;
	  };

/**
 * Inside the transaction that holds the license's lock: check, count, insert, audit.
 * `auditDetail` is added to every audit row (offline uploads say who uploaded, and that it was
 * offline).
 */
export async function activateLocked(
	ctx: LicenseContext,
	tx: Queryable,
	license: LicenseRow,
	input: MachineInput,
	userId: string | null,
	seat?: SeatHolder,
	auditDetail?: Record<string, unknown>,
): Promise<ActivationOutcome> {
	const at = ctx.now();
	const audit = (result: string, detail?: Record<string, unknown>) => {
		const merged = detail || auditDetail ? { ...auditDetail, ...detail } : undefined;
		return recordAudit(tx, ctx.meta, {
			action: "license_activate",
			result,
			licenseId: license.id,
			userId,
			...(merged ? { detail: merged } : {}),
		});
	};
	const usability = evaluateLicense(license, at);
	if (!usability.usable && usability.code !== "VALID") {
		await audit(usability.code);
		return { kind: "unusable", code: usability.code, license };
	}
	const existing = await tx.query.activations.findFirst({
		where: and(
			eq(activations.licenseId, license.id),
			eq(activations.hardwareId, input.hardware_id),
			isNull(activations.deactivatedAt),
		),
	});
	const tokenSeat = (memberId: string | null) =>
		seat && memberId ? { org: seat.org, seat: memberId } : undefined;
	if (existing) {
		// A repeated activation answers 200 and hands out a new token: audited like the first.
		await audit("existing", { activation_id: existing.id });
		return {
			kind: "ok",
			created: false,
			activation: existing,
			license,
			seat: tokenSeat(existing.memberId),
		};
	}
	const [active] = await tx
		.select({ n: count() })
		.from(activations)
		.where(and(eq(activations.licenseId, license.id), isNull(activations.deactivatedAt)));
	const inUse = active?.n ?? 0;
	if (inUse >= license.maxActivations) {
		await audit("ACTIVATION_LIMIT_REACHED");
		return { kind: "limit", license, max: license.maxActivations, active: inUse };
	}
	if (seat) {
		const [mine] = await tx
			.select({ n: count() })
			.from(activations)
			.where(
				and(
					eq(activations.licenseId, license.id),
					eq(activations.memberId, seat.seat),
					isNull(activations.deactivatedAt),
				),
			);
		const onSeat = mine?.n ?? 0;
		if (onSeat >= seat.perSeat) {
			await audit("ACTIVATION_LIMIT_REACHED", { seat: seat.seat });
			return { kind: "limit", license, max: seat.perSeat, active: onSeat };
		}
	}
	const [activation] = await tx
		.insert(activations)
		.values({
			id: newId("act"),
			licenseId: license.id,
			hardwareId: input.hardware_id,
			hostname: input.hostname ?? null,
			platform: input.platform ?? null,
			memberId: seat?.seat ?? null,
			lastValidatedAt: at,
		})
		.returning();
	if (!activation) throw new Error("insert returned no row");
	await audit("success", { activation_id: activation.id });
	await enqueue(tx, {
		type: "activation.created",
		orgId: { ofLicense: license.id },
		data: {
			id: activation.id,
			license_id: license.id,
			hostname: activation.hostname,
			platform: activation.platform,
		},
	});
	return { kind: "ok", created: true, activation, license, seat: tokenSeat(activation.memberId) };
}

/** After the commit: the outcome becomes a response or a documented error. */
async function finishActivation(
	ctx: LicenseContext,
	outcome: ActivationOutcome,
	hardwareId: string,
): Promise<ActivateResult> {
	if (outcome.kind !== "ok") refuseActivation(outcome);
	const token = await issueLicenseToken(
		ctx.config,
		outcome.license,
		hardwareId,
		ctx.now(),
		outcome.seat,
	);
	return {
		created: outcome.created,
		activation: activationView(outcome.activation),
		license: licenseView(outcome.license),
		token,
	};
}

/** A refused activation becomes its documented error. */
export function refuseActivation(outcome: Exclude<ActivationOutcome, { kind: "ok" }>): never {
	switch (outcome.kind) {
		case "not_found":
			throw apiError("LICENSE_NOT_FOUND");
		case "unusable":
			throw new ApiError(
				outcome.code,
				unusableMessage[outcome.code] ?? "This license cannot be used.",
				{ extra: { license_status: outcome.license.status } },
			);
		case "limit":
			throw apiError("ACTIVATION_LIMIT_REACHED", undefined, {
				max_activations: outcome.max,
				active: outcome.active,
			});
	}
}

const unusableMessage: Partial<Record<ValidationCode, string>> = {
	EXPIRED: "This license has expired. Renew the subscription to keep using it.",
	SUSPENDED: "This license is suspended. Contact support.",
	REVOKED: "This license has been revoked.",
	PAST_DUE:
		"The last payment for this license failed and the payment grace period has ended. Update the payment method in the billing portal (POST /api/v1/billing/portal, or the link in Stripe's payment-failed email); the license works again once the payment goes through.",
};

/** The `activation.removed` event, in the transaction that freed the machine. */
export async function activationRemoved(
	tx: Queryable,
	licenseId: string,
	activationId: string,
): Promise<void> {
	await enqueue(tx, {
		type: "activation.removed",
		orgId: { ofLicense: licenseId },
		data: { id: activationId, license_id: licenseId },
	});
}
