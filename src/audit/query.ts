/**
 * Reading the audit log (GET /api/v1/admin/audit): filters, newest first, keyset-paged.
 * Rows never hold secrets by design (./log.ts); any detail key that names one is still
 * masked here, so a future writer's mistake does not reach the operator's screen.
 */
import { and, desc, eq, gte, lte, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { auditLogs } from "../db/schema";
import { decodeCursor, encodeCursor, MAX_PAGE } from "../paging";

export interface AuditQuery {
	action?: string | undefined;
	result?: string | undefined;
	user_id?: string | undefined;
	license_id?: string | undefined;
	since?: string | undefined;
	until?: string | undefined;
	limit?: number | undefined;
	cursor?: string | undefined;
}

export interface AuditEntry {
	id: string;
	at: string;
	action: string;
	result: string;
	user_id: string | null;
	license_id: string | null;
	ip: string | null;
	user_agent: string | null;
	detail: Record<string, unknown> | null;
}

const SECRET_KEY = /password|secret|token|hash|license_key|^key$|code$/i;

function masked(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(masked);
	if (value === null || typeof value !== "object") return value;
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(value))
		out[k] = SECRET_KEY.test(k) ? "[redacted]" : masked(v);
	return out;
}

export async function readAudit(
	db: Queryable,
	q: AuditQuery,
): Promise<{ events: AuditEntry[]; next_cursor: string | null }> {
	const limit = Math.min(q.limit ?? 50, MAX_PAGE);
	const where: SQL[] = [];
	if (q.action) where.push(eq(auditLogs.action, q.action));
	if (q.result) where.push(eq(auditLogs.result, q.result));
	if (q.user_id) where.push(eq(auditLogs.userId, q.user_id));
	if (q.license_id) where.push(eq(auditLogs.licenseId, q.license_id));
	if (q.since) where.push(gte(auditLogs.at, new Date(q.since)));
	if (q.until) where.push(lte(auditLogs.at, new Date(q.until)));
	if (q.cursor) {
		const { at, id } = decodeCursor(q.cursor);
		where.push(sql`(${auditLogs.at}, ${auditLogs.id}) < (${at}::timestamptz, ${id})`);
	}
	const rows = await db
		.select({
			row: auditLogs,
			cursorAt: sql<string>`to_char(${auditLogs.at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		})
		.from(auditLogs)
		.where(where.length > 0 ? and(...where) : undefined)
		.orderBy(desc(auditLogs.at), desc(auditLogs.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		events: page.map(({ row: r }) => ({
			id: r.id,
			at: r.at.toISOString(),
			action: r.action,
			result: r.result,
			user_id: r.userId,
			license_id: r.licenseId,
			ip: r.ip,
			user_agent: r.userAgent,
			detail: r.detail ? (masked(r.detail) as Record<string, unknown>) : null,
		})),
		next_cursor: rows.length > limit && last ? encodeCursor(last.cursorAt, last.row.id) : null,
	};
}
