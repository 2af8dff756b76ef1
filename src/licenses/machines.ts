/** The operator's activation list (GET /api/v1/admin/activations): newest first, keyset-paged. */
import { and, desc, eq, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { activations } from "../db/schema";
import { decodeCursor, encodeCursor, MAX_PAGE } from "../paging";
import { type ActivationView, activationView } from "./views";

export interface ActivationSearch {
	license_id?: string | undefined;
	hardware_id?: string | undefined;
	/** true: still holding a seat; false: freed. */
	active?: boolean | undefined;
	limit?: number | undefined;
	cursor?: string | undefined;
}

export interface AdminActivationView extends ActivationView {
	license_id: string;
	deactivated_at: string | null;
}

export async function searchActivations(
	db: Queryable,
	q: ActivationSearch,
): Promise<{ activations: AdminActivationView[]; next_cursor: string | null }> {
	const limit = Math.min(q.limit ?? 50, MAX_PAGE);
	const where: SQL[] = [];
	if (q.license_id) where.push(eq(activations.licenseId, q.license_id));
	if (q.hardware_id) where.push(eq(activations.hardwareId, q.hardware_id));
	if (q.active === true) where.push(isNull(activations.deactivatedAt));
	if (q.active === false) where.push(isNotNull(activations.deactivatedAt));
	if (q.cursor) {
		const { at, id } = decodeCursor(q.cursor);
		where.push(sql`(${activations.createdAt}, ${activations.id}) < (${at}::timestamptz, ${id})`);
	}
	const rows = await db
		.select({
			a: activations,
			cursorAt: sql<string>`to_char(${activations.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		})
		.from(activations)
		.where(where.length > 0 ? and(...where) : undefined)
		.orderBy(desc(activations.createdAt), desc(activations.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		activations: page.map(({ a }) => ({
			...activationView(a),
			license_id: a.licenseId,
			deactivated_at: a.deactivatedAt?.toISOString() ?? null,
		})),
		next_cursor: rows.length > limit && last ? encodeCursor(last.cursorAt, last.a.id) : null,
	};
}
