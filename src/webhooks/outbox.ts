/**
 * Writing events into the outbox. `enqueue` runs in the caller's transaction, so an event row
 * exists exactly when the change it reports committed: no event for a rolled-back change, no
 * lost event for a committed one. Delivery happens later (deliver.ts).
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";

export const WEBHOOK_EVENTS = [
	"license.created",
	"license.updated",
	"license.suspended",
	"license.revoked",
	"activation.created",
	"activation.removed",
	"seat.assigned",
	"seat.released",
	"ci.lease_limit_reached",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookEvent {
	type: WebhookEventType;
	/**
	 * The org the change belongs to; null for changes outside any org (only operator endpoints
	 * hear those). `{ ofLicense }` takes the license's org, read in the same transaction.
	 */
	orgId: string | null | { ofLicense: string };
	/** The object as the API shows it: never secrets (license keys, tokens). */
	data: Record<string, unknown>;
}

/** The body every endpoint receives, byte for byte what is signed. */
export interface WebhookPayload {
	id: string;
	type: WebhookEventType;
	created_at: string;
	org_id: string | null;
	data: Record<string, unknown>;
}

/**
 * Queues `event` for every live endpoint that takes its type: the org's own endpoints and the
 * operator's (org_id null). Returns the event id (shared by all copies) and how many were queued.
 */
export async function enqueue(
	tx: Queryable,
	event: WebhookEvent,
): Promise<{ eventId: string; queued: number }> {
	const eventId = crypto.randomUUID();
	const payload: WebhookPayload = {
		id: eventId,
		type: event.type,
		created_at: new Date().toISOString(),
		org_id: null,
		data: event.data,
	};
	const org =
		event.orgId !== null && typeof event.orgId === "object"
			? sql`(select org_id from licenses where id = ${event.orgId.ofLicense})`
			: sql`${event.orgId}::text`;
	const rows = (await tx.execute(sql`
		with ev as (select ${org} as org_id)
		insert into webhook_outbox (event_id, endpoint_id, event_type, payload)
		select ${eventId}::uuid, e.id, ${event.type},
			${JSON.stringify(payload)}::jsonb || jsonb_build_object('org_id', ev.org_id)
		from webhook_endpoints e, ev
		where e.disabled_at is null
			and (e.org_id is null or e.org_id = ev.org_id)
			and ${event.type} = any(e.events)
		returning endpoint_id
	`)) as unknown as Array<{ endpoint_id: string }>;
	return { eventId, queued: rows.length };
}

/** At most one `ci.lease_limit_reached` per org in this window (docs/webhooks.md §2). */
export const LEASE_LIMIT_EVENT_WINDOW_SECONDS = 10 * 60;

/**
 * `enqueue`, unless an event of this type for this org was already queued within
 * `windowSeconds`: for refusals a client may repeat hundreds of times a minute (a CI storm
 * against the runner limit), where one event says all a receiver needs. One upsert on the
 * throttle row decides, atomically: two refusals at once cannot both pass. Runs in the
 * caller's transaction, so a rolled-back refusal neither queues nor uses up the window.
 */
export async function enqueueThrottled(
	tx: Queryable,
	event: WebhookEvent & { orgId: string },
	windowSeconds: number,
): Promise<{ eventId: string; queued: number } | null> {
	const won = (await tx.execute(sql`
		insert into webhook_event_throttle (org_id, event_type, last_at)
		values (${event.orgId}, ${event.type}, clock_timestamp())
		on conflict (org_id, event_type) do update set last_at = excluded.last_at
		where webhook_event_throttle.last_at <= clock_timestamp() - make_interval(secs => ${windowSeconds})
		returning 1
	`)) as unknown as unknown[];
	return won.length > 0 ? enqueue(tx, event) : null;
}
