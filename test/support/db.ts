/** Direct database access for tests inside workerd: to arrange states no route creates. */
import postgres from "postgres";
import { inject } from "vitest";

// One client per call: postgres.js sockets belong to the request context that opened them.
// Not ended on purpose: `sql.end()` in workerd raises unhandled rejections (porsager/postgres#1202).
export function testSql(): postgres.Sql {
	return postgres(inject("databaseUrl"), { max: 1, fetch_types: false, onnotice: () => {} });
}
