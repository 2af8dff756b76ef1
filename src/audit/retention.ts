import { sql } from "drizzle-orm";
import type { Database } from "../db/client";

/** docs/api.md §3.7: audit rows are kept at least this long, whatever the setting says. */
export const MIN_RETENTION_DAYS = 90;
/** Rows per DELETE: a first purge of a large table must not run into the statement timeout. */
const PURGE_BATCH = 5000;

/**
 * Deletes audit rows older than the retention, clamped to at least 90 days (the settings
 * schema refuses less, but this function is the last line). Returns how many rows went.
 */
export async function purgeAuditLogs(db: Database, retentionDays: number): Promise<number> {
	// A nonsensical setting deletes nothing rather than guessing: keeping rows longer is safe.
	if (!Number.isFinite(retentionDays)) return 0;
	const days = Math.max(MIN_RETENTION_DAYS, Math.floor(retentionDays));
	let total = 0;
	for (;;) {
		const rows = await db.execute<{ n: number }>(sql`
			with gone as (
				delete from audit_logs where id in (
					select id from audit_logs where at < now() - make_interval(days => ${days})
					limit ${PURGE_BATCH})
				returning 1)
			select count(*)::int as n from gone`);
		const n = rows[0]?.n ?? 0;
		total += n;
		if (n < PURGE_BATCH) return total;
	}
}

/**
 * The Node equivalent of the Worker's cron: a purge right away and then every `everyMs`. Right
 * away, because a server restarted more often than daily would otherwise never purge. Several
 * instances may all run it: the deletes are idempotent.
 */
export function scheduleAuditRetention(
	db: Database,
	retentionDays: number,
	opts: { everyMs?: number; log?: (line: string) => void } = {},
): () => void {
	const log = opts.log ?? ((line: string) => console.log(line));
	let running = false;
	const run = (): void => {
		if (running) return;
		running = true;
		purgeAuditLogs(db, retentionDays)
			.then((n) => {
				if (n > 0) log(`audit retention: deleted ${n} rows older than ${retentionDays} days`);
			})
			.catch((err: unknown) => {
				console.error("audit retention failed:", err instanceof Error ? err.message : err);
			})
			.finally(() => {
				running = false;
			});
	};
	const first = setTimeout(run, 0);
	const timer = setInterval(run, opts.everyMs ?? 24 * 3600 * 1000);
	first.unref();
	timer.unref();
	return () => {
		clearTimeout(first);
		clearInterval(timer);
	};
}
