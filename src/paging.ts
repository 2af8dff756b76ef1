/**
 * Keyset paging for the operator's lists: newest first on (timestamp, id), the cursor the last
 * row's pair. A page costs the same however deep, and rows written meanwhile neither repeat nor
 * vanish between pages.
 */
import { ApiError } from "./errors";

export const MAX_PAGE = 200;

/** Opaque to clients: base64url of `timestamp|id`. A tampered cursor is a 400, never a 500. */
export function encodeCursor(at: string, id: string): string {
	return btoa(`${at}|${id}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): { at: string; id: string } {
	const bad = () =>
		new ApiError("INVALID_REQUEST", "The cursor is not one this server issued.", {
			extra: { fields: ["cursor"] },
		});
	let text: string;
	try {
		text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
	} catch {
		throw bad();
	}
	// Microseconds, as Postgres keeps them: a millisecond cursor would skip rows made in one ms.
	const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([a-z]{2,5}_[0-9a-z]{1,40})$/.exec(
		text,
	);
	if (!m?.[1] || !m[2] || Number.isNaN(new Date(m[1]).getTime())) throw bad();
	return { at: m[1], id: m[2] };
}
