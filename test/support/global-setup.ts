/**
 * Once per test run, on Node: a fresh database (created on TEST_DATABASE_URL's server, or an
 * embedded PGlite when none is given), migrated, plus test-only secrets generated now.
 * Suites get them through `inject`; nothing is read from a previous run.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { createDb, createSql } from "../../src/db/client";
import { generateSigningKeyPair } from "../../src/kernel/index";
import { migrateDatabase, startEmbeddedPostgres } from "../../src/node/database";

declare module "vitest" {
	export interface ProvidedContext {
		databaseUrl: string;
		databaseKind: "postgres" | "embedded";
		signingKey: string;
		publicJwk: string;
		pepper: string;
		jwtSecret: string;
		adminToken: string;
	}
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const cleanups: Array<() => Promise<void>> = [];
	let url: string;
	let kind: "postgres" | "embedded";
	const server = process.env.TEST_DATABASE_URL;
	if (server) {
		const name = `coditect_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
		const admin = postgres(server, { max: 1, onnotice: () => {} });
		await admin.unsafe(`create database ${name}`);
		const u = new URL(server);
		u.pathname = `/${name}`;
		// Miniflare's Hyperdrive insists on a password; trust auth ignores it.
		if (!u.password) u.password = "postgres";
		url = u.toString();
		kind = "postgres";
		cleanups.push(async () => {
			await admin.unsafe(`drop database if exists ${name} with (force)`);
			await admin.end();
		});
	} else {
		const embedded = await startEmbeddedPostgres(null);
		url = embedded.url.replace("postgres@", "postgres:postgres@");
		kind = "embedded";
		cleanups.push(embedded.stop);
	}
	const sql = createSql(url, { max: 1 });
	await migrateDatabase(createDb(sql));
	await sql.end();

	const pair = await generateSigningKeyPair();
	project.provide("databaseUrl", url);
	project.provide("databaseKind", kind);
	project.provide("signingKey", JSON.stringify(pair.privateJwk));
	project.provide("publicJwk", JSON.stringify(pair.publicJwk));
	project.provide("pepper", randomBytes(32).toString("base64url"));
	project.provide("jwtSecret", randomBytes(32).toString("base64url"));
	project.provide("adminToken", randomBytes(32).toString("base64url"));

	return async () => {
		for (const cleanup of cleanups.reverse()) await cleanup();
	};
}
