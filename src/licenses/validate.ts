import { auditRow } from "../audit/log";
import { evaluateLicense, type ValidationCode } from "../kernel/rules";
import type { LicenseContext } from "./context";
import { issueLicenseToken } from "./issue-token";
import { keyHashOf, type LicenseSqlRow, licenseFromSql, sqlDate } from "./queries";
import { VALIDATE_SQL } from "./validation-sql";
import { type LicenseView, licenseView } from "./views";

export interface ValidateInput {
	license_key: string;
	hardware_id: string;
}

export interface ValidateResult {
	valid: boolean;
	code: ValidationCode;
	license: LicenseView | null;
	token: string | null;
}

/**
 * One database round trip: a single statement finds the license by key hash, stamps this
 * machine's activation and writes the audit row, so the audit entry cannot be lost once the
 * answer is given. The statement's own clock decides, in SQL and here alike.
 */
export async function validateLicense(
	ctx: LicenseContext,
	input: ValidateInput,
): Promise<ValidateResult> {
	// Node hashes synchronously: no await (and no promise) for it on the hot path.
	const hashed = keyHashOf(ctx.config, input.license_key);
	const keyHash = typeof hashed === "string" ? hashed : await hashed;
	const audit = auditRow(ctx.meta, { action: "license_validate", result: "" });
	const rows = await ctx.db.$client.unsafe<ValidateRow[]>(
		VALIDATE_SQL,
		[keyHash, input.hardware_id, audit.id, audit.ip ?? null, audit.userAgent ?? null],
		{ prepare: true },
	);
	const row = rows[0];
	if (!row || row.id === null) {
		return { valid: false, code: "NOT_FOUND", license: null, token: null };
	}
	const at = sqlDate(row.db_now) ?? ctx.now();
	// id is non-null here (checked above); a cast, not a copy, on the hot path.
	const license = licenseFromSql(row as LicenseSqlRow);
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
	const seat =
		row.org_id !== null && row.member_id !== null
			? { org: row.org_id, seat: row.member_id }
			: undefined;
	// Node signs synchronously: no await (a turn of the queue) for a token that is ready.
	const issued = valid ? issueLicenseToken(ctx.config, license, input.hardware_id, at, seat) : null;
	const token = issued === null || typeof issued === "string" ? issued : await issued;
	return { valid, code, license: licenseView(license), token };
}

interface ValidateRow extends Omit<LicenseSqlRow, "id"> {
	/** null: no license has this key (the statement still answers, for the audit row). */
	id: string | null;
	activation_id: string | null;
	/** Org licenses: the license's org and the seat this machine counts against. */
	org_id: string | null;
	member_id: string | null;
	code: ValidationCode;
	db_now: Date | string;
}
