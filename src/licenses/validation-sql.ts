import { type SQL, sql } from "drizzle-orm";

/**
 * evaluateLicense (src/license/rules.ts) in SQL, so validate can write its audit row with the
 * result in the same statement that reads the license. Both use the statement's `now()`;
 * test/worker/validation-rules.test.ts holds them equal over random license states.
 *
 * @param l alias of a row with status, expires_at, grace_until (null when no license matched)
 * @param activationId expression that is null when this machine has no active activation
 */
export function validationCodeSql(l: SQL, activationId: SQL): SQL {
	return sql`case
		when ${l}.id is null then 'NOT_FOUND'
		when ${l}.status = 'revoked' then 'REVOKED'
		when ${l}.status = 'suspended' then 'SUSPENDED'
		when ${l}.status = 'expired' then 'EXPIRED'
		when ${l}.status = 'past_due' and ${l}.expires_at is not null and ${l}.expires_at <= now() then 'EXPIRED'
		when ${l}.status = 'past_due' and ${l}.grace_until is not null and ${l}.grace_until <= now() then 'PAST_DUE'
		when ${l}.status = 'active' and ${l}.expires_at is not null and ${l}.expires_at <= now() then 'EXPIRED'
		when ${activationId} is null then 'NOT_ACTIVATED'
		when ${l}.status = 'past_due' then 'PAST_DUE'
		else 'VALID'
	end`;
}
