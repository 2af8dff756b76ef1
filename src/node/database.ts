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
	// PGlite is one backend; the socket server multiplexes connections onto it and keeps a
	// transaction's statements together, so several clients (workerd opens one per request) work.
	const server = new PGLiteSocketServer({ db: pg, port: 0, host: "127.0.0.1", maxConnections: 64 });
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
