/**
 * Postgres for the Node entry, tests and benchmarks: a real server by URL, or an embedded
 * PGlite served over the wire protocol so the very same postgres.js + drizzle code runs on it.
 */
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import type postgres from "postgres";
import { createDb, createSql, type Database } from "../db/client";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../drizzle", import.meta.url));

export interface OpenDatabase {
	url: string;
	sql: postgres.Sql;
	db: Database;
	embedded: boolean;
	close(): Promise<void>;
}

/** Starts PGlite (persisted in `dataDir`, or in memory when null) behind a loopback socket. */
export async function startEmbeddedPostgres(
	dataDir: string | null,
): Promise<{ url: string; stop(): Promise<void> }> {
	const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
		import("@electric-sql/pglite"),
		import("@electric-sql/pglite-socket"),
	]);
	if (dataDir) await mkdir(dataDir, { recursive: true });
	const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
	// PGlite is one backend; the socket server multiplexes connections onto it, keeping an
	// open transaction's statements together. It does not do the same for an extended-protocol
	// exchange (Parse … Sync) outside a transaction, so two connections' unnamed statements
	// could cross (test/unit/embedded-postgres.test.ts caught wrong results); the wrapper
	// reports such an exchange as "in transaction" until its Sync.
	const server = new PGLiteSocketServer({
		db: atomicExchanges(pg),
		port: 0,
		host: "127.0.0.1",
		maxConnections: 64,
	});
	await server.start();
	const conn = server.getServerConn();
	return {
		url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
		async stop() {
			await server.stop();
			await pg.close();
		},
	};
}

type Backend = Awaited<ReturnType<typeof import("@electric-sql/pglite")["PGlite"]["create"]>>;

/** Frontend message types that open or continue an extended-protocol exchange. */
const EXTENDED = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48].map(Number)); // P B D E C H
const SYNC = 0x53; // S
const QUERY = 0x51; // Q (simple query: self-contained)

function atomicExchanges(pg: Backend): Backend {
	let open = false;
	return new Proxy(pg, {
		get(target, prop) {
			if (prop === "isInTransaction") return () => open || target.isInTransaction();
			if (prop === "execProtocolRawStream") {
				return async (
					message: Uint8Array,
					options: Parameters<Backend["execProtocolRawStream"]>[1],
				) => {
					const type = message[0] ?? 0;
					try {
						return await target.execProtocolRawStream(message, options);
					} finally {
						if (type === SYNC || type === QUERY) open = false;
						else if (EXTENDED.has(type)) open = true;
					}
				};
			}
			if (prop === "exec") {
				// The socket server rolls back with exec() when a client leaves mid-exchange.
				return (query: string, ...rest: unknown[]) => {
					if (/^\s*rollback\s*$/i.test(query)) open = false;
					return (target.exec as (q: string, ...r: unknown[]) => unknown)(query, ...rest);
				};
			}
			const value: unknown = Reflect.get(target, prop, target);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}

/** Opens a pool on `url` (or an embedded database) and applies the committed migrations. */
export async function openDatabase(opts: {
	url?: string | undefined;
	dataDir: string | null;
	max?: number;
}): Promise<OpenDatabase> {
	let url = opts.url;
	let stopEmbedded: (() => Promise<void>) | undefined;
	if (!url) {
		const embedded = await startEmbeddedPostgres(opts.dataDir);
		url = embedded.url;
		stopEmbedded = embedded.stop;
	}
	const sql = createSql(url, { max: stopEmbedded ? 1 : (opts.max ?? 20), connectTimeout: 5 });
	const db = createDb(sql);
	await migrateDatabase(db);
	return {
		url,
		sql,
		db,
		embedded: Boolean(stopEmbedded),
		async close() {
			await sql.end({ timeout: 2 });
			await stopEmbedded?.();
		},
	};
}

export async function migrateDatabase(db: Database): Promise<void> {
	await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
}
