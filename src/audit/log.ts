import type { Queryable } from "../db/client";
import { auditLogs } from "../db/schema";
import { newId } from "../ids";
import { encodeControlChars } from "../text";

/** Who is acting, as far as this request can tell; recorded with every audit event. */
export interface RequestMeta {
	ip: string | null;
	userAgent: string | null;
}

export type AuditAction =
	| "signup"
	| "verify"
	| "login"
	| "logout"
	| "failed_login"
	| "lockout"
	| "refresh_reuse"
	| "license_create"
	| "license_activate"
	| "license_deactivate"
	| "license_validate"
	| "license_status_change"
	| "license_update"
	| "key_issued"
	| "invites_created"
	| "admin_login"
	| "admin_logout"
	| "checkout_started"
	| "checkout_completed"
	| "webhook_event"
	| "webhook_signature_failure"
	| "subscription_cancel"
	| "org_create"
	| "org_invite"
	| "org_join"
	| "org_role_change"
	| "org_member_remove"
	| "ci_key_created"
	| "ci_key_revoked"
	| "ci_rule_created"
	| "ci_rule_revoked"
	| "ci_lease_acquired"
	| "ci_lease_denied"
	| "ci_lease_released"
	| "ci_auth_failed"
	| "sso_configured"
	| "sso_removed"
	| "sso_domain_added"
	| "sso_domain_verified"
	| "sso_domain_removed"
	| "webhook_endpoint_created"
	| "webhook_endpoint_disabled"
	| "webhook_secret_rotated";

export interface AuditEvent {
	action: AuditAction;
	result: string;
	userId?: string | null;
	licenseId?: string | null;
	detail?: Record<string, unknown>;
}

/**
 * Control characters are encoded (`\u001b` → `\\x1b`) so a crafted user agent cannot forge
 * log lines or terminal escapes in whoever reads the table later.
 */
export function encodeForAudit(value: string | null, max = 512): string | null {
	if (value === null) return null;
	return encodeControlChars(value.length > max ? value.slice(0, max) : value);
}

/** Writes one audit row with the given handle, so it commits or rolls back with the action. */
export async function recordAudit(
	db: Queryable,
	meta: RequestMeta,
	event: AuditEvent,
): Promise<void> {
	await db.insert(auditLogs).values(auditRow(meta, event));
}

export function auditRow(meta: RequestMeta, event: AuditEvent): typeof auditLogs.$inferInsert {
	return {
		id: newId("aud"),
		action: event.action,
		result: event.result,
		userId: event.userId ?? null,
		licenseId: event.licenseId ?? null,
		ip: encodeForAudit(meta.ip, 64),
		userAgent: encodeForAudit(meta.userAgent),
		detail: event.detail ?? null,
	};
}
