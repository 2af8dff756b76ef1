/**
 * The embedded database serves many connections from one PGlite backend (workerd opens one
 * per request). Statements from different connections must not interleave inside one
 * extended-protocol exchange (Parse … Sync), or clients get each other's results or errors.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../src/node/database";

let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
beforeAll(async () => {
	embedded = await startEmbeddedPostgres(null);
}, 60_000);
afterAll(async () => {
	await embedded.stop();
});

describe("the embedded Postgres", () => {
	it("answers each of many concurrent connections with its own results", async () => {
		const clients = Array.from({ length: 12 }, () =>
			postgres(embedded.url, { max: 1, fetch_types: false, onnotice: () => {} }),
		);
		try {
			const results = await Promise.all(
				clients.flatMap((sql, c) =>
					Array.from({ length: 25 }, async (_, i) => {
						// Each connection's statement text differs, so a Bind landing on another
						// connection's unnamed statement would show up as a wrong answer.
						const [row] = await sql.unsafe(`select $1::int + ${c * 1000} as n`, [i], {
							prepare: i % 2 === 0,
						});
						return { expected: c * 1000 + i, got: (row as { n: number } | undefined)?.n };
					}),
				),
			);
			for (const r of results) expect(r.got).toBe(r.expected);
		} finally {
			await Promise.all(clients.map((sql) => sql.end({ timeout: 1 })));
		}
	}, 60_000);

	it("keeps a transaction's statements together while other connections wait", async () => {
		const a = postgres(embedded.url, { max: 1, fetch_types: false, onnotice: () => {} });
		const b = postgres(embedded.url, { max: 1, fetch_types: false, onnotice: () => {} });
		try {
			await a`create table if not exists counter (n int)`;
			await a`insert into counter values (0)`;
			await Promise.all(
				Array.from({ length: 20 }, (_, i) =>
					(i % 2 ? a : b).begin(async (tx) => {
						const [row] = await tx<{ n: number }[]>`select n from counter for update`;
						await tx`update counter set n = ${(row?.n ?? 0) + 1}`;
					}),
				),
			);
			const [row] = await a<{ n: number }[]>`select n from counter`;
			expect(row?.n).toBe(20);
		} finally {
			await a.end({ timeout: 1 });
			await b.end({ timeout: 1 });
		}
	}, 60_000);
});
