/**
 * The operator's invite batches (GET /api/v1/admin/invites, GET /api/v1/admin/invites/:id): how
 * many codes each batch holds and how many were used, and per code who signed up with it and
 * when. Codes are never readable again after creation: a code is named by its last 4 characters.
 */
import { and, asc, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { inviteBatches, invites, users } from "../db/schema";
import { apiError } from "../errors";
import { decodeCursor, encodeCursor, MAX_PAGE } from "../paging";

export interface InviteBatchSummary {
	id: string;
	label: string | null;
	codes: number;
	used: number;
	created_at: string;
}

export interface InviteCodeView {
	/** The code's last 4 characters (`INV-…-7K2Q`). */
	code_last4: string | null;
	used_by: { id: string; email: string } | null;
	used_at: string | null;
}

export interface InviteBatchDetail extends InviteBatchSummary {
	invites: InviteCodeView[];
}

const usedCount = sql<number>`(select count(*) from invites i where i.batch_id = "invite_batches"."id" and i.used_at is not null)::int`;
const codeCount = sql<number>`(select count(*) from invites i where i.batch_id = "invite_batches"."id")::int`;

export async function listInviteBatches(
	db: Queryable,
	q: { limit?: number | undefined; cursor?: string | undefined },
): Promise<{ batches: InviteBatchSummary[]; next_cursor: string | null }> {
	const limit = Math.min(q.limit ?? 50, MAX_PAGE);
	const where: SQL[] = [];
	if (q.cursor) {
		const { at, id } = decodeCursor(q.cursor);
		where.push(
			sql`(${inviteBatches.createdAt}, ${inviteBatches.id}) < (${at}::timestamptz, ${id})`,
		);
	}
	const rows = await db
		.select({
			batch: inviteBatches,
			codes: codeCount,
			used: usedCount,
			cursorAt: sql<string>`to_char(${inviteBatches.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		})
		.from(inviteBatches)
		.where(where.length > 0 ? and(...where) : undefined)
		.orderBy(desc(inviteBatches.createdAt), desc(inviteBatches.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		batches: page.map((r) => summary(r.batch, r.codes, r.used)),
		next_cursor: rows.length > limit && last ? encodeCursor(last.cursorAt, last.batch.id) : null,
	};
}

/** One batch with every code (at most 100, the most one request makes); 404 when unknown. */
export async function inviteBatch(db: Queryable, id: string): Promise<InviteBatchDetail> {
	const [batch] = await db.select().from(inviteBatches).where(eq(inviteBatches.id, id));
	if (!batch) throw apiError("NOT_FOUND", "No invite batch has this id.");
	const rows = await db
		.select({
			last4: invites.codeLast4,
			usedAt: invites.usedAt,
			userId: users.id,
			email: users.email,
		})
		.from(invites)
		.leftJoin(users, eq(users.id, invites.usedBy))
		.where(eq(invites.batchId, id))
		// Used codes first, in the order they were used; then the unused ones.
		.orderBy(sql`${invites.usedAt} asc nulls last`, asc(invites.codeLast4));
	const codes = rows.map((r) => ({
		code_last4: r.last4,
		used_by: r.userId && r.email ? { id: r.userId, email: r.email } : null,
		used_at: r.usedAt?.toISOString() ?? null,
	}));
	return {
		...summary(batch, codes.length, codes.filter((c) => c.used_at !== null).length),
		invites: codes,
	};
}

function summary(
	b: { id: string; label: string | null; createdAt: Date },
	codes: number,
	used: number,
): InviteBatchSummary {
	return { id: b.id, label: b.label, codes, used, created_at: b.createdAt.toISOString() };
}
