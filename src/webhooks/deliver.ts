/**
 * One delivery run over the outbox: claim due rows, POST each signed, record the outcome.
 *
 * Claiming is a short transaction (`FOR UPDATE SKIP LOCKED`) that also pushes the rows'
 * `next_attempt_at` past the request timeout: concurrent runners skip rows another holds, and
 * once the claim commits the rows are no longer due, so no HTTP call runs inside a transaction
 * and two runners never POST the same row. A runner that dies mid-POST leaves its rows to come
 * due again after the lease: delivery is at least once, receivers deduplicate on the event id.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { EndpointSecrets } from "./secrets";
import { SIGNATURE_HEADER, signatureHeader } from "./sign";
import { checkWebhookUrl, PRODUCTION_POLICY, type UrlPolicy } from "./ssrf";

/** Waits after the 1st…5th failed attempt; a 6th failure makes the row dead. */
export const BACKOFF_SECONDS = [60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600] as const;

export interface DeliveryOptions {
	/** Opens the endpoints' stored secrets (secrets.ts). */
	secrets: EndpointSecrets;
	policy?: UrlPolicy;
	/** Per-request timeout; the claim lease is this plus a margin. */
	timeoutMs?: number;
	/** Rows claimed per run. */
	batch?: number;
	fetch?: typeof fetch;
}

export interface DeliveryReport {
	claimed: number;
	delivered: number;
	failed: number;
	dead: number;
}

interface Claimed {
	event_id: string;
	endpoint_id: string;
	payload: unknown;
	attempts: number;
	url: string;
	secret_current: string;
	secret_previous: string | null;
	previous_live: boolean;
}

export async function deliverDue(db: Database, opts: DeliveryOptions): Promise<DeliveryReport> {
	const timeoutMs = opts.timeoutMs ?? 10_000;
	const leaseSeconds = Math.ceil(timeoutMs / 1000) + 30;
	const claimed = (await db.execute(sql`
		with due as (
			select o.event_id, o.endpoint_id from webhook_outbox o
			where o.delivered_at is null and o.dead_at is null and o.next_attempt_at <= clock_timestamp()
			order by o.next_attempt_at
			limit ${opts.batch ?? 50}
			for update skip locked
		)
		update webhook_outbox o
		set attempts = o.attempts + 1,
			next_attempt_at = clock_timestamp() + make_interval(secs => ${leaseSeconds})
		from due, webhook_endpoints e
		where o.event_id = due.event_id and o.endpoint_id = due.endpoint_id and e.id = o.endpoint_id
		returning o.event_id, o.endpoint_id, o.payload, o.attempts, e.url, e.secret_current,
			e.secret_previous,
			(e.previous_expires_at is not null and e.previous_expires_at > clock_timestamp()) as previous_live
	`)) as unknown as Claimed[];

	const report: DeliveryReport = { claimed: claimed.length, delivered: 0, failed: 0, dead: 0 };
	await Promise.all(
		claimed.map(async (row) => {
			const outcome = await attempt(db, row, opts, timeoutMs);
			const final = outcome.ok
				? "delivered"
				: row.attempts > BACKOFF_SECONDS.length
					? "dead"
					: "failed";
			report[final]++;
			const wait = BACKOFF_SECONDS[Math.min(row.attempts, BACKOFF_SECONDS.length) - 1] ?? 0;
			await db.execute(sql`
				update webhook_outbox set
					last_status = ${outcome.status},
					last_error = ${outcome.error},
					delivered_at = case when ${final === "delivered"} then clock_timestamp() end,
					dead_at = case when ${final === "dead"} then clock_timestamp() end,
					next_attempt_at = case when ${final === "failed"}
						then clock_timestamp() + make_interval(secs => ${wait}) else next_attempt_at end
				where event_id = ${row.event_id}::uuid and endpoint_id = ${row.endpoint_id}
			`);
		}),
	);
	return report;
}

/** The secrets to sign `row` with: current first, then the previous one while it is live. */
async function signingSecrets(
	db: Database,
	row: Claimed,
	secrets: EndpointSecrets,
): Promise<string[] | null> {
	const current = await secrets.open(row.endpoint_id, row.secret_current);
	// Never sent unsigned, nor signed with something else: the row fails and retries (an
	// operator restoring the right LICENSE_KEY_PEPPER makes it deliverable again).
	if (!current) return null;
	// Opened even when expired, only so a legacy one is sealed below; it signs only while live.
	const previous = row.secret_previous
		? await secrets.open(row.endpoint_id, row.secret_previous)
		: null;
	for (const [column, stored, opened] of [
		["secret_current", row.secret_current, current],
		["secret_previous", row.secret_previous, previous],
	] as const) {
		// A secret stored in the clear before migration 0010 is sealed on its first delivery;
		// only if the row still holds it, so a rotation in between is not undone.
		if (!opened?.legacy || stored === null) continue;
		const sealed = await secrets.seal(row.endpoint_id, opened.secret);
		await db.execute(sql`
			update webhook_endpoints set ${sql.identifier(column)} = ${sealed}
			where id = ${row.endpoint_id} and ${sql.identifier(column)} = ${stored}
		`);
	}
	return previous && row.previous_live ? [current.secret, previous.secret] : [current.secret];
}

async function attempt(
	db: Database,
	row: Claimed,
	opts: DeliveryOptions,
	timeoutMs: number,
): Promise<{ ok: boolean; status: number | null; error: string | null }> {
	// Checked again at send time: the policy may be stricter than when the endpoint was saved.
	const check = checkWebhookUrl(row.url, opts.policy ?? PRODUCTION_POLICY);
	if (!check.ok) return { ok: false, status: null, error: check.reason };
	const secrets = await signingSecrets(db, row, opts.secrets);
	if (!secrets) return { ok: false, status: null, error: "secret_unreadable" };
	const body = JSON.stringify(row.payload);
	try {
		const res = await (opts.fetch ?? fetch)(check.url, {
			method: "POST",
			headers: {
				"content-type": "application/json",
				"user-agent": "coditect-webhooks/1",
				[SIGNATURE_HEADER]: await signatureHeader(secrets, body),
			},
			body,
			// A redirect could point anywhere, past the address check: not followed.
			redirect: "manual",
			signal: AbortSignal.timeout(timeoutMs),
		});
		// The receiver's body is not ours to keep; drain it so the connection is released.
		await res.body?.cancel();
		const ok = res.status >= 200 && res.status < 300;
		return { ok, status: res.status, error: ok ? null : `http_${res.status}` };
	} catch (err) {
		const name = err instanceof Error ? err.name : "";
		// The Node entry's guarded fetch refuses a name whose DNS answer is not allowed (fetch
		// wraps that as its cause); said as such, so the owner sees why in the delivery log.
		const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
		const refused = cause?.code === "WEBHOOK_ADDRESS_NOT_ALLOWED";
		return {
			ok: false,
			status: null,
			error: refused
				? "address_not_allowed"
				: name === "TimeoutError"
					? "timeout"
					: "network_error",
		};
	}
}
