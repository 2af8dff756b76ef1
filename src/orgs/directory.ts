/** The operator's org search (GET /api/v1/admin/orgs): newest first, keyset-paged. */
import { and, desc, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { orgs } from "../db/schema";
import { decodeCursor, encodeCursor, MAX_PAGE } from "../paging";

export interface OrgSearch {
	name?: string | undefined;
	limit?: number | undefined;
	cursor?: string | undefined;
}

export interface AdminOrgView {
	id: string;
	name: string;
	members: number;
	license_ids: string[];
	created_at: string;
}

export async function searchOrgs(
	db: Queryable,
	q: OrgSearch,
): Promise<{ orgs: AdminOrgView[]; next_cursor: string | null }> {
	const limit = Math.min(q.limit ?? 50, MAX_PAGE);
	const where: SQL[] = [];
	if (q.name) where.push(sql`strpos(lower(${orgs.name}), ${q.name.toLowerCase()}) > 0`);
	if (q.cursor) {
		const { at, id } = decodeCursor(q.cursor);
		where.push(sql`(${orgs.createdAt}, ${orgs.id}) < (${at}::timestamptz, ${id})`);
	}
	const rows = await db
		.select({
			id: orgs.id,
			name: orgs.name,
			createdAt: orgs.createdAt,
			members: sql<number>`(select count(*) from org_members m where m.org_id = "orgs"."id")::int`,
			// json, not an array: the driver is built without type fetching and would hand back "{}".
			licenseIds: sql<
				string[]
			>`coalesce((select json_agg(l.id order by l.created_at) from licenses l where l.org_id = "orgs"."id"), '[]'::json)`,
			cursorAt: sql<string>`to_char(${orgs.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		})
		.from(orgs)
		.where(where.length > 0 ? and(...where) : undefined)
		.orderBy(desc(orgs.createdAt), desc(orgs.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		orgs: page.map((o) => ({
			id: o.id,
			name: o.name,
			members: o.members,
			license_ids: o.licenseIds,
			created_at: o.createdAt.toISOString(),
		})),
		next_cursor: rows.length > limit && last ? encodeCursor(last.cursorAt, last.id) : null,
	};
}
