/**
 * A fresh token for a machine that already holds a seat, for its logged-in user: what the CLI
 * asks when it revalidates an account's license. It never creates an activation, so a check can
 * neither take a seat nor spend the activation budget; it counts like a validate.
 */
import { sql } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import { apiError } from "../errors";
import { evaluateLicense } from "../kernel/rules";
import type { LicenseContext } from "./context";
import { issueLicenseToken } from "./issue-token";
import { type LicenseSqlRow, licenseFromSql, sqlDate } from "./queries";
import type { ValidateResult } from "./validate";
import { licenseView } from "./views";

interface HeldRow extends LicenseSqlRow, Record<string, unknown> {
	org_id: string | null;
	member_id: string | null;
	hardware_id: string;
	db_now: Date | string;
}

export async function refreshHeldActivation(
	ctx: LicenseContext,
	userId: string,
	licenseId: string,
	activationId: string,
): Promise<ValidateResult> {
	return ctx.db.transaction(async (tx) => {
		// The owner's machine, or a member's own machine on the org license; anyone else: 404.
		const rows = await tx.execute<HeldRow>(sql`
			update activations a set last_validated_at = now()
			from licenses l join plans p on p.id = l.plan_id
			where a.id = ${activationId} and a.license_id = ${licenseId} and a.deactivated_at is null
				and l.id = a.license_id
				and (l.owner_id = ${userId}
					or a.member_id in (select id from org_members where user_id = ${userId}))
			returning l.id, l.plan_id, l.status, l.expires_at, l.grace_until, l.max_activations,
				l.key_last4, p.entitlements, l.org_id, a.member_id, a.hardware_id, now() as db_now`);
		const row = rows[0];
		if (!row) throw apiError("ACTIVATION_NOT_FOUND", "You have no active machine with this id.");
		const license = licenseFromSql(row);
		const at = sqlDate(row.db_now) ?? ctx.now();
		const { usable, code } = evaluateLicense(license, at);
		await recordAudit(tx, ctx.meta, {
			action: "license_validate",
			result: code,
			licenseId,
			userId,
			detail: { activation_id: activationId, by: "session" },
		});
		const seat =
			row.org_id !== null && row.member_id !== null
				? { org: row.org_id, seat: row.member_id }
				: undefined;
		const token = usable
			? await issueLicenseToken(ctx.config, license, row.hardware_id, at, seat)
			: null;
		return { valid: usable, code, license: licenseView(license), token };
	});
}
