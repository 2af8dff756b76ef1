/**
 * Webhook endpoints: an org's, managed by its owners and admins, and the operator's (org_id
 * null, ADMIN_TOKEN), which hear every org's events and those outside any org (outbox.ts).
 * Register (URL through the SSRF guard), list, rotate the secret, disable, and read recent
 * deliveries. For an org, a caller who is not a member gets 404, a plain member 403
 * (requireMember); each side sees only its own endpoints, another's id is 404. The secret is
 * answered once, when made (create, rotate), and never again, nor written to the audit log.
 *
 * Endpoints are disabled, never deleted: `enqueue` may be inserting an outbox row for one in
 * another transaction, and a deleted row would fail that insert's foreign key. A disabled
 * endpoint gets no new events (enqueue filters on disabled_at) and keeps its delivery history.
 */
import { and, count, desc, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit/log";
import { recordAudit } from "../audit/log";
import type { Database } from "../db/client";
import { orgs, webhookEndpoints, webhookOutbox } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { newId } from "../ids";
import { MANAGERS, requireMember } from "../orgs/membership";
import type { WebhookEventType } from "./outbox";
import type { EndpointSecrets } from "./secrets";
import { newWebhookSecret } from "./sign";
import { checkWebhookUrl, type UrlPolicy } from "./ssrf";

/** Live endpoints per org (and the operator's): each is one more POST per event, so a ceiling. */
export const MAX_ENDPOINTS_PER_ORG = 20;

/**
 * Whose endpoints a call is about: an org's, on behalf of one of its users, or the operator's
 * (the ADMIN_TOKEN holder, who has no user id; audited with `actor: "operator"`).
 */
export type EndpointOwner = { orgId: string; userId: string } | "operator";
/** How long the old secret still signs after a rotation (docs/webhooks.md §3). */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export interface WebhookEndpointDeps {
	db: Database;
	meta: RequestMeta;
	/** The same rules delivery applies (urlPolicyFor), so a registered URL is a deliverable one. */
	policy: UrlPolicy;
	/** Seals a secret before it is stored (secrets.ts); the answer carries it in the clear once. */
	secrets: EndpointSecrets;
	now(): Date;
}

export interface WebhookEndpointView {
	id: string;
	/** null: an operator endpoint, which hears every org's events. */
	org_id: string | null;
	url: string;
	events: string[];
	created_at: string;
	disabled_at: string | null;
	/** While a rotation overlaps: until when the previous secret still signs; else null. */
	previous_secret_expires_at: string | null;
}

export interface WebhookDeliveryView {
	event_id: string;
	event_type: string;
	attempts: number;
	last_status: number | null;
	last_error: string | null;
	created_at: string;
	next_attempt_at: string;
	delivered_at: string | null;
	dead_at: string | null;
}

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function view(row: EndpointRow, now: Date): WebhookEndpointView {
	const overlap =
		row.previousExpiresAt && row.previousExpiresAt > now ? row.previousExpiresAt : null;
	return {
		id: row.id,
		org_id: row.orgId,
		url: row.url,
		events: row.events,
		created_at: row.createdAt.toISOString(),
		disabled_at: row.disabledAt?.toISOString() ?? null,
		previous_secret_expires_at: overlap?.toISOString() ?? null,
	};
}

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

export function webhookEndpointService(deps: WebhookEndpointDeps) {
	const orgIdOf = (owner: EndpointOwner): string | null =>
		owner === "operator" ? null : owner.orgId;
	const ownedBy = (owner: EndpointOwner): SQL =>
		owner === "operator"
			? isNull(webhookEndpoints.orgId)
			: (eq(webhookEndpoints.orgId, owner.orgId) as SQL);
	/** The audit row's actor: the org's user, or the operator (no user id). */
	const actor = (owner: EndpointOwner) =>
		owner === "operator"
			? { userId: null, extra: { actor: "operator" } }
			: { userId: owner.userId, extra: {} };

	async function authorize(owner: EndpointOwner): Promise<void> {
		if (owner !== "operator") await requireMember(deps.db, owner.orgId, owner.userId, MANAGERS);
	}

	async function endpointOf(owner: EndpointOwner, endpointId: string): Promise<EndpointRow> {
		const [row] = await deps.db
			.select()
			.from(webhookEndpoints)
			.where(and(eq(webhookEndpoints.id, endpointId), ownedBy(owner)));
		if (!row) {
			throw apiError(
				"NOT_FOUND",
				owner === "operator"
					? "There is no operator webhook endpoint with this id."
					: "This organisation has no webhook endpoint with this id.",
			);
		}
		return row;
	}

	return {
		async create(
			owner: EndpointOwner,
			input: { url: string; events: WebhookEventType[] },
		): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
			await authorize(owner);
			const checked = checkWebhookUrl(input.url, deps.policy);
			if (!checked.ok) {
				throw new ApiError(
					"INVALID_REQUEST",
					"url must be an https URL on a public address (no credentials, no loopback or private ranges).",
					{ extra: { fields: ["url"], reason: checked.reason } },
				);
			}
			const secret = newWebhookSecret();
			const id = newId("whe");
			const orgId = orgIdOf(owner);
			const who = actor(owner);
			const row = await deps.db.transaction(async (tx) => {
				// Serializes creates per owner so two at once cannot both pass the ceiling: the org
				// row, or for the operator (no row to lock) a transaction-scoped advisory lock.
				if (orgId) {
					await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, orgId)).for("update");
				} else {
					await tx.execute(
						sql`select pg_advisory_xact_lock(hashtext('webhook_endpoints:operator'))`,
					);
				}
				const [live] = await tx
					.select({ n: count() })
					.from(webhookEndpoints)
					.where(and(ownedBy(owner), isNull(webhookEndpoints.disabledAt)));
				if ((live?.n ?? 0) >= MAX_ENDPOINTS_PER_ORG) {
					throw new ApiError(
						"CONFLICT",
						`${orgId ? "An organisation" : "The operator"} has at most ${MAX_ENDPOINTS_PER_ORG} live webhook endpoints; disable one first.`,
						{ extra: { limit: MAX_ENDPOINTS_PER_ORG } },
					);
				}
				const [inserted] = await tx
					.insert(webhookEndpoints)
					.values({
						id,
						orgId,
						url: checked.url,
						events: input.events,
						secretCurrent: await deps.secrets.seal(id, secret),
					})
					.returning();
				await recordAudit(tx, deps.meta, {
					action: "webhook_endpoint_created",
					result: "ok",
					userId: who.userId,
					detail: {
						org_id: orgId,
						endpoint_id: id,
						url: checked.url,
						events: input.events,
						...who.extra,
					},
				});
				return inserted as EndpointRow;
			});
			return { endpoint: view(row, deps.now()), secret };
		},

		async list(owner: EndpointOwner): Promise<WebhookEndpointView[]> {
			await authorize(owner);
			const rows = await deps.db
				.select()
				.from(webhookEndpoints)
				.where(ownedBy(owner))
				.orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id));
			const now = deps.now();
			return rows.map((r) => view(r, now));
		},

		/** Idempotent: disabling a disabled endpoint answers the same and audits nothing new. */
		async disable(owner: EndpointOwner, endpointId: string): Promise<void> {
			await authorize(owner);
			await endpointOf(owner, endpointId);
			const who = actor(owner);
			await deps.db.transaction(async (tx) => {
				const changed = await tx
					.update(webhookEndpoints)
					.set({ disabledAt: deps.now() })
					.where(and(eq(webhookEndpoints.id, endpointId), isNull(webhookEndpoints.disabledAt)))
					.returning({ id: webhookEndpoints.id });
				if (changed.length === 0) return;
				await recordAudit(tx, deps.meta, {
					action: "webhook_endpoint_disabled",
					result: "ok",
					userId: who.userId,
					detail: { org_id: orgIdOf(owner), endpoint_id: endpointId, ...who.extra },
				});
			});
		},

		/** A new current secret; the old one keeps signing for ROTATION_OVERLAP_MS. */
		async rotateSecret(
			owner: EndpointOwner,
			endpointId: string,
		): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
			await authorize(owner);
			const existing = await endpointOf(owner, endpointId);
			if (existing.disabledAt) {
				throw apiError("CONFLICT", "This webhook endpoint is disabled; register a new one.");
			}
			const secret = newWebhookSecret();
			const sealed = await deps.secrets.seal(endpointId, secret);
			const now = deps.now();
			const who = actor(owner);
			const row = await deps.db.transaction(async (tx) => {
				// The previous secret is whatever is current *now* (read under the row lock), so two
				// rotations at once cannot drop the secret the receiver still holds. It moves over
				// as stored: both slots are sealed under the same endpoint id.
				const [locked] = await tx
					.select({ current: webhookEndpoints.secretCurrent })
					.from(webhookEndpoints)
					.where(eq(webhookEndpoints.id, endpointId))
					.for("update");
				const [updated] = await tx
					.update(webhookEndpoints)
					.set({
						secretPrevious: locked?.current ?? existing.secretCurrent,
						previousExpiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS),
						secretCurrent: sealed,
					})
					.where(eq(webhookEndpoints.id, endpointId))
					.returning();
				await recordAudit(tx, deps.meta, {
					action: "webhook_secret_rotated",
					result: "ok",
					userId: who.userId,
					detail: { org_id: orgIdOf(owner), endpoint_id: endpointId, ...who.extra },
				});
				return updated as EndpointRow;
			});
			return { endpoint: view(row, now), secret };
		},

		/** The endpoint's outbox rows, newest first; payloads stay out (they are the receiver's). */
		async deliveries(
			owner: EndpointOwner,
			endpointId: string,
			limit: number,
		): Promise<WebhookDeliveryView[]> {
			await authorize(owner);
			await endpointOf(owner, endpointId);
			const rows = await deps.db
				.select()
				.from(webhookOutbox)
				.where(eq(webhookOutbox.endpointId, endpointId))
				.orderBy(desc(webhookOutbox.createdAt), desc(webhookOutbox.eventId))
				.limit(limit);
			return rows.map((r) => ({
				event_id: r.eventId,
				event_type: r.eventType,
				attempts: r.attempts,
				last_status: r.lastStatus,
				last_error: r.lastError,
				created_at: r.createdAt.toISOString(),
				next_attempt_at: r.nextAttemptAt.toISOString(),
				delivered_at: iso(r.deliveredAt),
				dead_at: iso(r.deadAt),
			}));
		},
	};
}

export type WebhookEndpointService = ReturnType<typeof webhookEndpointService>;
