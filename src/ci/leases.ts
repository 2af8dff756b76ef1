/**
 * CI runner slots. A lease holds one of the org's `ci_runners` slots while it is unexpired and
 * unreleased. Acquiring and extending take the org row's lock and read the clock after it
 * (`clock_timestamp()`, the database's one clock for every instance), so the live leases never
 * outnumber the slots, however requests interleave; a runner that dies frees its slot by
 * simply expiring — nothing has to clean up for the count to be right.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { auditRow, recordAudit } from "../audit/log";
import type { Queryable } from "../db/client";
import { ciLeases } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { newId } from "../ids";
import { evaluateLicense } from "../kernel/rules";
import { CI_LEASE_DEFAULT_TTL_S, ciTokenClaims } from "../kernel/token/ci";
import { signCiToken } from "../kernel/token/sign";
import { type OrgLicense, orgLicenseOf } from "../licenses/queries";
import { enqueueThrottled, LEASE_LIMIT_EVENT_WINDOW_SECONDS } from "../webhooks/outbox";
import type { CiCaller } from "./caller";
import type { CiDeps } from "./deps";

export interface LeaseView {
	lease_id: string;
	org_id: string;
	job_id: string;
	/** Signed CI token (typ `coditect-ci+jwt`); it expires with the lease. */
	token: string;
	expires_at: string;
}

export interface AcquireInput {
	job_id: string;
	runner?: string | undefined;
	ttl_s?: number | undefined;
}

async function lockOrg(tx: Queryable, orgId: string): Promise<void> {
	// NO KEY UPDATE: serialises lease decisions for the org without blocking inserts elsewhere
	// that only reference the org (their foreign-key checks take KEY SHARE).
	await tx.execute(sql`select 1 from orgs where id = ${orgId} for no key update`);
}

/** The org's usable license, or the 403 that says why there is none. */
async function usableLicense(
	tx: Queryable,
	orgId: string,
	now: Date,
): Promise<{
	license: OrgLicense;
	usableUntil: Date | null;
}> {
	const license = await orgLicenseOf(tx, orgId, now);
	if (!license) throw apiError("FORBIDDEN", "This organisation has no license.");
	const state = evaluateLicense(license, now);
	if (!state.usable) {
		throw apiError(state.code as "EXPIRED" | "SUSPENDED" | "REVOKED" | "PAST_DUE");
	}
	return { license, usableUntil: state.usableUntil };
}

async function leaseToken(
	deps: CiDeps,
	license: OrgLicense,
	lease: { id: string; orgId: string; jobId: string; expiresAt: Date },
): Promise<LeaseView> {
	const claims = ciTokenClaims({
		issuer: deps.config.issuer,
		licenseId: license.id,
		ci: { org: lease.orgId, job: lease.jobId, lease: lease.id },
		lic: {
			plan: license.planId,
			status: license.status,
			expires_at: license.expiresAt?.toISOString() ?? null,
			entitlements: license.entitlements.features,
		},
		leaseExpiresAt: lease.expiresAt,
	});
	return {
		lease_id: lease.id,
		org_id: lease.orgId,
		job_id: lease.jobId,
		token: await signCiToken(deps.config.signingKey, claims),
		expires_at: lease.expiresAt.toISOString(),
	};
}

/** `now() + ttl`, never past the license's own end. */
function leaseEnd(ttlS: number, usableUntil: Date | null) {
	const end = sql`clock_timestamp() + make_interval(secs => ${ttlS})`;
	return usableUntil ? sql`least(${end}, ${usableUntil.toISOString()}::timestamptz)` : end;
}

async function denied(deps: CiDeps, caller: CiCaller, jobId: string, err: unknown): Promise<never> {
	if (err instanceof ApiError) {
		await deps.db.transaction(async (tx) => {
			await recordAudit(tx, deps.meta, {
				action: "ci_lease_denied",
				result: err.code,
				detail: { org_id: caller.orgId, job_id: jobId, via: caller.via, ...err.extra },
			});
			// With the refusal's audit row, so the event exists exactly when the refusal is on
			// record; throttled, because a CI storm retries against the limit many times a minute.
			if (err.code === "CI_CONCURRENCY_LIMIT") {
				await enqueueThrottled(
					tx,
					{
						type: "ci.lease_limit_reached",
						orgId: caller.orgId,
						data: { org_id: caller.orgId, job_id: jobId, ...err.extra },
					},
					LEASE_LIMIT_EVENT_WINDOW_SECONDS,
				);
			}
		});
	}
	throw err;
}

/**
 * A slot for `job_id`: the job's live lease if it has one (idempotent), else a new one, else
 * 409 CI_CONCURRENCY_LIMIT with the limit, the live count and when the next slot frees.
 */
export async function acquireLease(
	deps: CiDeps,
	caller: CiCaller & { grantedBy: string },
	input: AcquireInput,
): Promise<{ created: boolean; lease: LeaseView }> {
	const now = new Date();
	const ttl = input.ttl_s ?? CI_LEASE_DEFAULT_TTL_S;
	try {
		return await deps.db.transaction(async (tx) => {
			// Read before the lock: the lock is held only for the one statement that decides.
			const { license, usableUntil } = await usableLicense(tx, caller.orgId, now);
			await lockOrg(tx, caller.orgId);
			const leaseId = newId("cil");
			const audit = auditRow(deps.meta, {
				action: "ci_lease_acquired",
				result: "success",
				licenseId: license.id,
				detail: {
					org_id: caller.orgId,
					job_id: input.job_id,
					lease_id: leaseId,
					granted_by: caller.grantedBy,
					...(caller.via === "oidc" && caller.subject ? { subject: caller.subject } : {}),
				},
			});
			const limit = license.entitlements.ci_runners;
			// One statement, after the lock so its snapshot sees every committed lease: this job's
			// live lease if any, else a new one (and its audit row) if a slot is free, plus the
			// counts a refusal reports.
			const [decision] = (await tx.execute(sql`
				with live as (
					select id, job_id, expires_at, created_at from ci_leases
					where org_id = ${caller.orgId} and released_at is null and expires_at > clock_timestamp()
				),
				own as (select id, expires_at from live where job_id = ${input.job_id} order by created_at limit 1),
				summary as (select count(*)::int as active, min(expires_at) as next_free from live),
				created as (
					insert into ci_leases (id, org_id, license_id, job_id, runner, granted_by, expires_at)
					select ${leaseId}, ${caller.orgId}, ${license.id}, ${input.job_id}, ${input.runner ?? null},
						${caller.grantedBy}, ${leaseEnd(ttl, usableUntil)}
					where not exists (select 1 from own) and (select active from summary) < ${limit}
					returning id, expires_at
				),
				audited as (
					insert into audit_logs (id, action, result, license_id, ip, user_agent, detail)
					select ${audit.id}, ${audit.action}, ${audit.result}, ${license.id}, ${audit.ip ?? null},
						${audit.userAgent ?? null}, ${JSON.stringify(audit.detail)}::jsonb
					from created
				)
				select
					(select active from summary) as active,
					(select (extract(epoch from next_free) * 1000)::float8 from summary) as next_free_ms,
					(select id from own) as own_id,
					(select (extract(epoch from expires_at) * 1000)::float8 from own) as own_expires_ms,
					(select id from created) as new_id,
					(select (extract(epoch from expires_at) * 1000)::float8 from created) as new_expires_ms`)) as unknown as Array<{
				active: number;
				next_free_ms: number | null;
				own_id: string | null;
				own_expires_ms: number | null;
				new_id: string | null;
				new_expires_ms: number | null;
			}>;
			const found = decision?.own_id ?? decision?.new_id;
			const expiresMs = decision?.own_expires_ms ?? decision?.new_expires_ms;
			if (found && typeof expiresMs === "number") {
				const lease = {
					id: found,
					orgId: caller.orgId,
					jobId: input.job_id,
					expiresAt: new Date(expiresMs),
				};
				return { created: !decision?.own_id, lease: await leaseToken(deps, license, lease) };
			}
			const next = decision?.next_free_ms;
			throw apiError(
				"CI_CONCURRENCY_LIMIT",
				`All ${limit} CI runner slot(s) of this organisation's plan are in use.`,
				{
					limit,
					active: decision?.active ?? 0,
					next_free_at: typeof next === "number" ? new Date(next).toISOString() : null,
				},
			);
		});
	} catch (err) {
		return denied(deps, caller, input.job_id, err);
	}
}

function leaseOf(caller: CiCaller, leaseId: string): void {
	// A lease token speaks for its own lease only; another id is someone else's (404).
	if (caller.via === "lease" && caller.leaseId !== leaseId) {
		throw apiError("NOT_FOUND", "No lease with this id.");
	}
}

/**
 * Extends a live lease by `ttl_s` from now. An expired lease stays dead (its slot may be
 * someone else's already): 404, and the job leases again.
 */
export async function heartbeatLease(
	deps: CiDeps,
	caller: CiCaller,
	leaseId: string,
	ttlS: number | undefined,
): Promise<LeaseView> {
	leaseOf(caller, leaseId);
	const now = new Date();
	return deps.db.transaction(async (tx) => {
		const { license, usableUntil } = await usableLicense(tx, caller.orgId, now);
		await lockOrg(tx, caller.orgId);
		const [row] = await tx
			.update(ciLeases)
			.set({ expiresAt: leaseEnd(ttlS ?? CI_LEASE_DEFAULT_TTL_S, usableUntil) })
			.where(
				and(
					eq(ciLeases.id, leaseId),
					eq(ciLeases.orgId, caller.orgId),
					isNull(ciLeases.releasedAt),
					sql`${ciLeases.expiresAt} > clock_timestamp()`,
				),
			)
			.returning({ id: ciLeases.id, jobId: ciLeases.jobId, expiresAt: ciLeases.expiresAt });
		if (!row) {
			throw apiError("NOT_FOUND", "No live lease with this id (it expired or was released).");
		}
		return leaseToken(deps, license, { ...row, orgId: caller.orgId });
	});
}

/** Frees the slot now. Releasing twice is fine; an unknown or foreign lease is a 404. */
export async function releaseLease(deps: CiDeps, caller: CiCaller, leaseId: string): Promise<void> {
	leaseOf(caller, leaseId);
	const audit = auditRow(deps.meta, {
		action: "ci_lease_released",
		result: "success",
		detail: { org_id: caller.orgId, lease_id: leaseId, via: caller.via },
	});
	// One statement: find, release if still held, audit only a real release.
	const [row] = (await deps.db.execute(sql`
		with target as (select id from ci_leases where id = ${leaseId} and org_id = ${caller.orgId}),
		released as (
			update ci_leases set released_at = clock_timestamp()
			where id = (select id from target) and released_at is null
			returning id, license_id
		),
		audited as (
			insert into audit_logs (id, action, result, license_id, ip, user_agent, detail)
			select ${audit.id}, ${audit.action}, ${audit.result}, license_id, ${audit.ip ?? null},
				${audit.userAgent ?? null}, ${JSON.stringify(audit.detail)}::jsonb
			from released
		)
		select (select id from target) as id`)) as unknown as Array<{ id: string | null }>;
	if (!row?.id) throw apiError("NOT_FOUND", "No lease with this id.");
}
