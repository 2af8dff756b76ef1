/**
 * The validate statement: one round trip that finds the license by key hash, stamps this
 * machine's activation and writes the audit row with the verdict, so the audit entry cannot be
 * lost once the answer is given. It is sent as a named prepared statement (postgres.js
 * `prepare: true`, which Hyperdrive supports): Postgres plans it once per connection.
 *
 * The CASE is evaluateLicense (src/kernel/rules.ts) in SQL; both use the statement's `now()`,
 * and test/worker/validation-rules.test.ts holds them equal over random license states.
 *
 * The statement commits asynchronously (`synchronous_commit` off for its own transaction
 * only): it does not wait for the WAL flush, which halves its cost here (bench figures in
 * README). The trade: a Postgres crash in the following fraction of a second could lose this
 * validate's audit row and last-validated stamp. License state never depends on it, and
 * every other write (activations, payments, accounts) still commits synchronously.
 *
 * Parameters: $1 key hash, $2 hardware id, $3 audit row id, $4 client IP, $5 user agent.
 */
export const VALIDATE_SQL = `
with async_commit as (
	select set_config('synchronous_commit', 'off', true)
), l as (
	select l.id, l.plan_id, l.status, l.expires_at, l.grace_until, l.max_activations,
		l.key_last4, p.entitlements, l.org_id
	from licenses l join plans p on p.id = l.plan_id
	where l.key_hash = $1
), a as (
	update activations set last_validated_at = now()
	where license_id = (select id from l) and hardware_id = $2 and deactivated_at is null
	returning id, member_id
), r as (
	select l.*, a.id as activation_id, a.member_id, now() as db_now,
		case
			when l.id is null then 'NOT_FOUND'
			when l.status = 'revoked' then 'REVOKED'
			when l.status = 'suspended' then 'SUSPENDED'
			when l.status = 'expired' then 'EXPIRED'
			when l.status = 'past_due' and l.expires_at is not null and l.expires_at <= now() then 'EXPIRED'
			when l.status = 'past_due' and l.grace_until is not null and l.grace_until <= now() then 'PAST_DUE'
			when l.status = 'active' and l.expires_at is not null and l.expires_at <= now() then 'EXPIRED'
			when a.id is null then 'NOT_ACTIVATED'
			when l.status = 'past_due' then 'PAST_DUE'
			else 'VALID'
		end as code
	from (select 1) as one
	left join l on true
	left join (select id, member_id from a limit 1) as a on true
), logged as (
	insert into audit_logs (id, action, result, license_id, ip, user_agent)
	select $3, 'license_validate', r.code, r.id, $4, $5 from r
)
select r.* from r, async_commit`;
