/** The operator's user search (GET /api/v1/admin/users): newest first, keyset-paged. */
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { users } from "../db/schema";
import { decodeCursor, encodeCursor, MAX_PAGE } from "../paging";

export interface UserSearch {
	email?: string | undefined;
	stripe_customer_id?: string | undefined;
	limit?: number | undefined;
	cursor?: string | undefined;
}

/** Never the password hash: whether one is set is all an operator needs. */
export interface AdminUserView {
	id: string;
	email: string;
	email_verified_at: string | null;
	has_password: boolean;
	oauth_provider: string | null;
	stripe_customer_id: string | null;
	locked_until: string | null;
	licenses: number;
	created_at: string;
}

export async function searchUsers(
	db: Queryable,
	q: UserSearch,
): Promise<{ users: AdminUserView[]; next_cursor: string | null }> {
	const limit = Math.min(q.limit ?? 50, MAX_PAGE);
	const where: SQL[] = [];
	if (q.email) where.push(sql`strpos(${users.email}, ${q.email.toLowerCase()}) > 0`);
	if (q.stripe_customer_id) where.push(eq(users.stripeCustomerId, q.stripe_customer_id));
	if (q.cursor) {
		const { at, id } = decodeCursor(q.cursor);
		where.push(sql`(${users.createdAt}, ${users.id}) < (${at}::timestamptz, ${id})`);
	}
	const rows = await db
		.select({
			u: {
				id: users.id,
				email: users.email,
				emailVerifiedAt: users.emailVerifiedAt,
				hasPassword: sql<boolean>`${users.passwordHash} is not null`,
				oauthProvider: users.oauthProvider,
				stripeCustomerId: users.stripeCustomerId,
				lockedUntil: users.lockedUntil,
				createdAt: users.createdAt,
			},
			// Spelled out: drizzle leaves columns unqualified here, and a bare "id" would be the license's.
			licenses: sql<number>`(select count(*) from licenses l where l.owner_id = "users"."id")::int`,
			cursorAt: sql<string>`to_char(${users.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		})
		.from(users)
		.where(where.length > 0 ? and(...where) : undefined)
		.orderBy(desc(users.createdAt), desc(users.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		users: page.map(({ u, licenses: count }) => ({
			id: u.id,
			email: u.email,
			email_verified_at: u.emailVerifiedAt?.toISOString() ?? null,
			has_password: u.hasPassword,
			oauth_provider: u.oauthProvider,
			stripe_customer_id: u.stripeCustomerId,
			locked_until: u.lockedUntil?.toISOString() ?? null,
			licenses: count,
			created_at: u.createdAt.toISOString(),
		})),
		next_cursor: rows.length > limit && last ? encodeCursor(last.cursorAt, last.u.id) : null,
	};
}
