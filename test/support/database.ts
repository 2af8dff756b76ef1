/**
 * SQL on the run's database, for what no route shows: audit rows, and moving a lockout or a
 * code's expiry into the past instead of waiting 15 minutes. Runs on the Node side (see
 * oauth-mock-setup.ts) so test code in workerd opens no database sockets of its own.
 */
import { inject } from "vitest";

export async function sql<T extends Record<string, unknown>>(
	text: string,
	params: Array<string | number | boolean | null> = [],
): Promise<T[]> {
	const res = await fetch(`${inject("oauthIssuer")}/_test/sql`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ text, params }),
	});
	const body = (await res.json()) as { rows?: T[]; error?: string };
	if (!res.ok || !body.rows) throw new Error(`sql failed: ${body.error ?? res.status}`);
	return body.rows;
}

export async function auditActions(
	userId: string,
): Promise<Array<{ action: string; result: string }>> {
	return sql<{ action: string; result: string }>(
		"select action, result from audit_logs where user_id = $1 order by at, id",
		[userId],
	);
}
