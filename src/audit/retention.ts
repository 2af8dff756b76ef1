import { sql } from "drizzle-orm";
import type { Database } from "../db/client";

/** Deletes audit rows older than the retention (never below 90 days, SPEC §3.7). */
export async function purgeAuditLogs(db: Database, retentionDays: number): Promise<number> {
	const days = Math.max(90, Math.floor(retentionDays));
	const rows = await db.execute<{ n: number }>(sql`
		with gone as (delete from audit_logs where at < now() - make_interval(days => ${days}) returning 1)
		select count(*)::int as n from gone`);
	return rows[0]?.n ?? 0;
}
