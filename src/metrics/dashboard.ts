/**
 * The launch dashboard (docs/api.md §3.5): how many people sign up, verify, pay, activate and use
 * the product over a window. One statement, so every figure is read from the same snapshot
 * and against the database's clock.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";

/** Every count is over the window `since` ≤ t ≤ `until` (`until` is the statement's `now()`). */
export interface LaunchMetrics {
	since: string;
	until: string;
	/**
	 * People who asked for an account: distinct addresses that were sent a signup code or made an
	 * account through OAuth or SSO (repeated requests count once; existing accounts not at all).
	 */
	signups: number;
	/** Accounts whose email was verified in the window (OAuth accounts count when created). */
	verified_users: number;
	checkouts: {
		/** Stripe Checkout sessions opened through the API. */
		started: number;
		/** Checkout sessions whose payment landed (webhook), by session id, each once. */
		completed: number;
		/** Of the sessions started in the window, the share completed by `until`; null with none started. */
		success_rate: number | null;
	};
	licenses: {
		/** Licenses created in the window, paid (Stripe) and operator-made alike. */
		created: number;
		/** Of those, licenses activated on at least one machine (a seat freed since still counts). */
		activated: number;
		/** activated / created; null when none were created. */
		activation_rate: number | null;
	};
	/** License validation calls, whatever their answer (calls, not licenses or machines). */
	validations: number;
	/** Refused login attempts (unknown email, wrong password, locked account…), not accounts. */
	failed_logins: number;
	/** Lockouts: an account locked twice in the window counts twice. */
	lockouts: number;
}

interface MetricsRow extends Record<string, unknown> {
	since: Date | string;
	until: Date | string;
	signups: number;
	verified_users: number;
	checkouts_started: number;
	checkouts_completed: number;
	checkouts_started_completed: number;
	licenses_created: number;
	licenses_activated: number;
	validations: number;
	failed_logins: number;
	lockouts: number;
}

/** Launch metrics since `since` (ISO 8601; default 30 days before now). */
export async function launchMetrics(db: Queryable, since?: string): Promise<LaunchMetrics> {
	const rows = await db.execute<MetricsRow>(sql`
		with w as (
			select coalesce(${since ?? null}::timestamptz, now() - interval '30 days') as since,
				now() as until
		),
		-- The window's audit rows, read once through the index on "at".
		events as (
			select a.id, a.action, a.result, a.detail
			from audit_logs a, w
			where a.at between w.since and w.until
				and a.action in ('signup', 'checkout_started', 'checkout_completed',
					'license_validate', 'failed_login', 'lockout')
		),
		started as (
			select distinct detail->>'session_id' as session_id
			from events where action = 'checkout_started'
		),
		completed as (
			select distinct detail->>'session_id' as session_id
			from events where action = 'checkout_completed'
		),
		created as (
			select l.id from licenses l, w where l.created_at between w.since and w.until
		)
		select
			w.since, w.until,
			-- People, not requests: one address asking for codes twice counts once. Rows written
			-- before the address tag existed count one each.
			(select count(distinct coalesce(detail->>'address', id)) from events
				where action = 'signup' and result in ('code_sent', 'oauth', 'sso'))::int as signups,
			(select count(*) from users, w
				where email_verified_at between w.since and w.until)::int as verified_users,
			(select count(*) from events where action = 'checkout_started')::int as checkouts_started,
			(select count(*) from completed)::int as checkouts_completed,
			-- A session started late in the window may complete just after it: look past until.
			(select count(*) from started s where exists (
				select 1 from audit_logs d
				where d.action = 'checkout_completed' and d.at >= w.since
					and d.detail->>'session_id' = s.session_id))::int as checkouts_started_completed,
			(select count(*) from created)::int as licenses_created,
			(select count(*) from created c
				where exists (select 1 from activations a where a.license_id = c.id))::int
				as licenses_activated,
			(select count(*) from events where action = 'license_validate')::int as validations,
			(select count(*) from events where action = 'failed_login')::int as failed_logins,
			(select count(*) from events where action = 'lockout')::int as lockouts
		from w`);
	const row = rows[0];
	if (!row) throw new Error("metrics query returned no row");
	return {
		since: new Date(row.since).toISOString(),
		until: new Date(row.until).toISOString(),
		signups: row.signups,
		verified_users: row.verified_users,
		checkouts: {
			started: row.checkouts_started,
			completed: row.checkouts_completed,
			success_rate: rate(row.checkouts_started_completed, row.checkouts_started),
		},
		licenses: {
			created: row.licenses_created,
			activated: row.licenses_activated,
			activation_rate: rate(row.licenses_activated, row.licenses_created),
		},
		validations: row.validations,
		failed_logins: row.failed_logins,
		lockouts: row.lockouts,
	};
}

function rate(part: number, whole: number): number | null {
	return whole === 0 ? null : part / whole;
}

/** One UTC day of the launch dashboard's charts. */
export interface LaunchDay {
	/** `YYYY-MM-DD`, UTC. */
	date: string;
	/** As `signups` above, for this day. */
	signups: number;
	licenses_created: number;
	/** Of the licenses created this day, those activated on a machine since. */
	licenses_activated: number;
	/** null on a day with no license created. */
	activation_rate: number | null;
	checkouts_started: number;
	/** Of the checkouts started this day, those whose payment has landed since. */
	checkouts_completed: number;
	/** Payment success: completed / started; null on a day with no checkout. */
	success_rate: number | null;
}

interface DayRow extends Record<string, unknown> {
	date: string;
	signups: number;
	licenses_created: number;
	licenses_activated: number;
	checkouts_started: number;
	checkouts_completed: number;
}

/**
 * The last `days` UTC days, oldest first, today included (so far): signups, activation and
 * payment success per day, for the console's charts and GET /api/v1/admin/metrics/daily. One
 * statement: every day is counted from the same snapshot, each through the index on `at`.
 */
export async function launchSeries(db: Queryable, days: number): Promise<LaunchDay[]> {
	const rows = await db.execute<DayRow>(sql`
		with d as (
			select day at time zone 'UTC' as start, (day + interval '1 day') at time zone 'UTC' as stop,
				to_char(day, 'YYYY-MM-DD') as date
			from generate_series(
				date_trunc('day', now() at time zone 'UTC') - make_interval(days => ${days - 1}),
				date_trunc('day', now() at time zone 'UTC'),
				interval '1 day') as day
		),
		started as (
			select distinct on (a.detail->>'session_id') a.detail->>'session_id' as session_id, a.at
			from audit_logs a, (select min(start) as since from d) w
			where a.action = 'checkout_started' and a.at >= w.since
			order by a.detail->>'session_id', a.at
		)
		select d.date,
			(select count(distinct coalesce(a.detail->>'address', a.id)) from audit_logs a
				where a.action = 'signup' and a.result in ('code_sent', 'oauth')
					and a.at >= d.start and a.at < d.stop)::int as signups,
			(select count(*) from licenses l
				where l.created_at >= d.start and l.created_at < d.stop)::int as licenses_created,
			(select count(*) from licenses l
				where l.created_at >= d.start and l.created_at < d.stop
					and exists (select 1 from activations x where x.license_id = l.id))::int
				as licenses_activated,
			(select count(*) from started s where s.at >= d.start and s.at < d.stop)::int
				as checkouts_started,
			(select count(*) from started s where s.at >= d.start and s.at < d.stop
				and exists (select 1 from audit_logs c
					where c.action = 'checkout_completed' and c.at >= s.at
						and c.detail->>'session_id' = s.session_id))::int as checkouts_completed
		from d
		order by d.date`);
	return rows.map((r) => ({
		date: r.date,
		signups: r.signups,
		licenses_created: r.licenses_created,
		licenses_activated: r.licenses_activated,
		activation_rate: rate(r.licenses_activated, r.licenses_created),
		checkouts_started: r.checkouts_started,
		checkouts_completed: r.checkouts_completed,
		success_rate: rate(r.checkouts_completed, r.checkouts_started),
	}));
}
