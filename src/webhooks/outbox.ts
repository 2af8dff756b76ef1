/**
 * Writing events into the outbox. `enqueue` runs in the caller's transaction, so an event row
 * exists exactly when the change it reports committed: no event for a rolled-back change, no
 * lost event for a committed one. Delivery happens later (deliver.ts).
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";

export const WEBHOOK_EVENTS = [
	"license.created",
	"license.suspended",
	"license.revoked",
	"activation.created",
	"activation.removed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookEvent {
	type: WebhookEventType;
	/** The org the change belongs to; null for changes outside any org (only operator endpoints hear those). */
	orgId: string | null;
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
		org_id: event.orgId,
		data: event.data,
	};
	const rows = (await tx.execute(sql`
		insert into webhook_outbox (event_id, endpoint_id, event_type, payload)
		select ${eventId}::uuid, e.id, ${event.type}, ${JSON.stringify(payload)}::jsonb
		from webhook_endpoints e
		where e.disabled_at is null
			and (e.org_id is null or e.org_id = ${event.orgId})
			and ${event.type} = any(e.events)
		returning endpoint_id
	`)) as unknown as Array<{ endpoint_id: string }>;
	return { eventId, queued: rows.length };
}
