/**
 * Counts what validate costs the database: every statement postgres.js sends goes through its
 * `debug` hook, so N validates through the real app (in process, real Postgres) give the
 * statements per validate. A statement is one round trip (postgres.js pipelines
 * Parse/Bind/Execute/Sync of one statement in one write).
 *
 *   npx tsx bench/round-trips.ts
 */
import postgres from "postgres";
import { passwordHasher } from "../src/accounts/password";
import { newApp } from "../src/app";
import { buildConfig } from "../src/config";
import { createDb } from "../src/db/client";
import { SettingsSchema } from "../src/env";
import { argon2idNative } from "../src/node/argon2";
import { migrateDatabase } from "../src/node/database";
import { nodeCrypto } from "../src/node/native-crypto";
import { memoryRateLimiter } from "../src/ratelimit/limiter";
import { type BenchRow, benchSecrets, freshDatabase, seedLicenses } from "./lib";

export async function runRoundTripBench(
	n = 200,
): Promise<{ rows: BenchRow[]; perValidate: number }> {
	const database = await freshDatabase();
	let statements = 0;
	const sql = postgres(database.url, {
		max: 4,
		fetch_types: false,
		onnotice: () => {},
		debug: () => {
			statements++;
		},
	});
	try {
		const db = createDb(sql);
		await migrateDatabase(db);
		const secrets = await benchSecrets();
		const pepper = secrets.LICENSE_KEY_PEPPER;
		const settings = SettingsSchema.parse({
			PUBLIC_URL: "http://bench.test",
			...secrets,
		});
		const config = await buildConfig(settings, nodeCrypto);
		const limiter = memoryRateLimiter();
		const app = newApp({
			resolve: async () => ({ config, db, limiter }),
			clientIp: () => "127.0.0.1",
			defer: () => {},
			passwords: passwordHasher(argon2idNative),
			docsBundle: async () => null,
		});
		const seeded = await seedLicenses(database.url, pepper, n);
		statements = 0;
		let valid = 0;
		for (const s of seeded) {
			const res = await app.request("/api/v1/licenses/validate", {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ license_key: s.key, hardware_id: s.hw }),
			});
			if (((await res.json()) as { valid?: boolean }).valid) valid++;
		}
		const perValidate = statements / n;
		return {
			perValidate,
			rows: [
				{
					name: "validate: database statements per request (postgres.js debug hook)",
					value: `${perValidate.toFixed(2)} (${statements} for ${n} validates, ${valid} valid)`,
					target: "1",
					ok: perValidate === 1 && valid === n,
				},
			],
		};
	} finally {
		await sql.end({ timeout: 2 });
		await database.drop();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	for (const r of (await runRoundTripBench()).rows) console.log(`${r.name}: ${r.value}`);
}
