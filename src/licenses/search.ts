/**
 * The operator's license search (GET /api/v1/admin/licenses): filters by owner email, key last
 * 4, status, plan and Stripe ids, newest first, keyset-paged on (created_at, id) so a page is
 * stable while licenses are being created and costs the same however deep the operator pages.
 */
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { type LicenseStatus, licenses, plans, users } from "../db/schema";
import { decodeCursor, encodeCursor, MAX_PAGE } from "../paging";
import { type LicenseView, licenseView } from "./views";

export { MAX_PAGE };

export interface LicenseSearch {
	/** One license by id (the console's detail page). */
	id?: string | undefined;
	email?: string | undefined;
	key_last4?: string | undefined;
	status?: LicenseStatus | undefined;
	plan?: string | undefined;
	stripe_customer_id?: string | undefined;
	stripe_subscription_id?: string | undefined;
	limit?: number | undefined;
	cursor?: string | undefined;
}

export interface AdminLicenseView extends LicenseView {
	owner: { id: string; email: string } | null;
	/** Granted to an address with no account yet. */
	owner_email: string | null;
	org_id: string | null;
	source: string;
	stripe_customer_id: string | null;
	stripe_subscription_id: string | null;
	created_at: string;
}

export async function searchLicenses(
	db: Queryable,
	q: LicenseSearch,
): Promise<{ licenses: AdminLicenseView[]; next_cursor: string | null }> {
	const limit = Math.min(q.limit ?? 50, MAX_PAGE);
	const where: SQL[] = [];
	if (q.email) {
		// A substring of the owner's address or of the address a license waits for; strpos, not
		// LIKE, so `%` and `_` in the query are literal.
		const needle = q.email.toLowerCase();
		where.push(
			sql`(strpos(${users.email}, ${needle}) > 0 or strpos(coalesce(${licenses.ownerEmail}, ''), ${needle}) > 0)`,
		);
	}
	if (q.id) where.push(eq(licenses.id, q.id));
	if (q.key_last4) where.push(eq(licenses.keyLast4, q.key_last4.toUpperCase()));
	if (q.status) where.push(eq(licenses.status, q.status));
	if (q.plan) where.push(eq(licenses.planId, q.plan));
	if (q.stripe_customer_id) where.push(eq(licenses.stripeCustomerId, q.stripe_customer_id));
	if (q.stripe_subscription_id)
		where.push(eq(licenses.stripeSubscriptionId, q.stripe_subscription_id));
	if (q.cursor) {
		const { at, id } = decodeCursor(q.cursor);
		where.push(sql`(${licenses.createdAt}, ${licenses.id}) < (${at}::timestamptz, ${id})`);
	}
	const rows = await db
		.select({
			license: licenses,
			entitlements: plans.entitlements,
			ownerEmail: users.email,
			cursorAt: sql<string>`to_char(${licenses.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		})
		.from(licenses)
		.innerJoin(plans, eq(plans.id, licenses.planId))
		.leftJoin(users, eq(users.id, licenses.ownerId))
		.where(where.length > 0 ? and(...where) : undefined)
		.orderBy(desc(licenses.createdAt), desc(licenses.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		licenses: page.map(({ license: l, entitlements, ownerEmail }) => ({
			...licenseView({ ...l, entitlements }),
			owner: l.ownerId && ownerEmail ? { id: l.ownerId, email: ownerEmail } : null,
			owner_email: l.ownerEmail,
			org_id: l.orgId,
			source: l.source,
			stripe_customer_id: l.stripeCustomerId,
			stripe_subscription_id: l.stripeSubscriptionId,
			created_at: l.createdAt.toISOString(),
		})),
		next_cursor: rows.length > limit && last ? encodeCursor(last.cursorAt, last.license.id) : null,
	};
}
