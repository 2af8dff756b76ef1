import {
	createTableRelationsHelpers,
	extractTablesRelationalConfig,
	type RelationalSchemaConfig,
	type TablesRelationalConfig,
} from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { PostgresJsDatabase, PostgresJsSession } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

/** drizzle over postgres.js; `$client` is the raw client, for the few statements we prepare by name. */
export type Database = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
/** A transaction handle or the database itself: queries that may run in either take this. */
export type Queryable = Parameters<Parameters<Database["transaction"]>[0]>[0] | Database;

export interface SqlOptions {
	/** Pool size: 5 per request on Workers (6 sockets allowed), larger on Node. */
	max: number;
	/** Seconds to wait for a connection before answering 503 instead of hanging. */
	connectTimeout?: number;
	/**
	 * Send statement / idle-in-transaction timeouts as startup parameters. Off behind Hyperdrive:
	 * a pooler serves many clients on one server connection and need not pass (or accept)
	 * per-client startup settings; the Worker's request limits bound the time there instead.
	 */
	serverTimeouts?: boolean;
}

/** A postgres.js client tuned for our use: no type fetch round trip, bounded connect time. */
export function createSql(url: string, opts: SqlOptions): postgres.Sql {
	return postgres(url, {
		max: opts.max,
		fetch_types: false,
		connect_timeout: opts.connectTimeout ?? 5,
		idle_timeout: 30,
		// postgres.js waits before reconnecting with a backoff that grows to 20 s (3^n / 100 s)
		// and keeps the pool's queued queries waiting meanwhile: after an outage requests hung
		// for 15 s and more, and service came back up to 20 s after Postgres did
		// (test/node/faults.test.ts). Retrying at most every half second keeps answers (503
		// during the outage) and recovery bounded; a refused connect costs next to nothing.
		backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
		// Our own statement timeout so a stuck query turns into a 503, not a hung request.
		...(opts.serverTimeouts === false
			? {}
			: { connection: { statement_timeout: 10_000, idle_in_transaction_session_timeout: 15_000 } }),
		onnotice: () => {},
	});
}

/**
 * What `drizzle(sql, { schema })` derives from the schema on every call: the relational-query
 * metadata of every table. It depends on the schema alone, so it is built once per isolate.
 * On Workers a request gets its own client (sockets cannot cross requests), and deriving this
 * per request cost 165–300 µs of CPU, more than the rest of drizzle's set-up together.
 */
let relational: RelationalSchemaConfig<TablesRelationalConfig> | undefined;
const dialect = new PgDialect();
const asIs = (value: unknown) => value;

/**
 * drizzle over `sql`, as `drizzle(sql, { schema })` builds it (drizzle-orm 0.45's postgres-js
 * driver: the same date/json pass-through parsers, session and database), with the relational
 * metadata shared. Every query of every suite goes through here, so a drift from drizzle's own
 * construction shows up in the tests.
 */
export function createDb(sql: postgres.Sql): Database {
	const { parsers, serializers } = sql.options as unknown as Record<
		"parsers" | "serializers",
		Record<string, unknown>
	>;
	for (const type of ["1184", "1082", "1083", "1114", "1182", "1185", "1115", "1231"]) {
		parsers[type] = asIs;
		serializers[type] = asIs;
	}
	serializers["114"] = asIs;
	serializers["3802"] = asIs;
	if (!relational) {
		const tables = extractTablesRelationalConfig(schema, createTableRelationsHelpers);
		relational = { fullSchema: schema, schema: tables.tables, tableNamesMap: tables.tableNamesMap };
	}
	const session = new PostgresJsSession(sql, dialect, relational, {});
	const db = new PostgresJsDatabase(dialect, session as never, relational as never) as Database;
	db.$client = sql;
	return db;
}
