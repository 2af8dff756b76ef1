/**
 * What the validate statement costs Postgres on its own, without HTTP, Node or workerd: pgbench
 * (prepared statements, 8 clients, on the bench's Postgres) runs `select 1`, the validate
 * statement exactly as the app sends it (src/licenses/validation-sql.ts), and its read part
 * alone (the same lookup without the activation stamp and the audit row), over 10,000 seeded
 * licenses. The share of `select 1` the statement reaches bounds what validate / baseline can
 * reach on a machine where server, database and load generator share the CPUs.
 *
 *   npx tsx bench/statement.ts        (needs pgbench: Debian's postgresql-client)
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createDb, createSql } from "../src/db/client";
import { VALIDATE_SQL } from "../src/licenses/validation-sql";
import { migrateDatabase } from "../src/node/database";
import {
	type BenchRow,
	benchSecrets,
	fmt,
	freshDatabase,
	hasCommand,
	run,
	seedLicenses,
} from "./lib";

/** The validate statement's lookup and verdict inputs, with no write. */
const READ_PART = `
select l.id, l.plan_id, l.status, l.expires_at, l.grace_until, l.max_activations, l.key_last4,
	p.entitlements, a.id as activation_id, now() as db_now
from (select 1) as one
left join licenses l on l.key_hash = $1
left join plans p on p.id = l.plan_id
left join activations a on a.license_id = l.id and a.hardware_id = $2 and a.deactivated_at is null`;

export async function runStatementBench(opts: { seconds?: number } = {}): Promise<{
	rows: BenchRow[];
}> {
	if (!(await hasCommand("pgbench"))) {
		return { rows: [{ name: "validate statement", value: "not run: needs pgbench", ok: false }] };
	}
	const seconds = opts.seconds ?? 8;
	const db = await freshDatabase();
	try {
		const setup = createSql(db.url, { max: 1 });
		await migrateDatabase(createDb(setup));
		await setup.end();
		await seedLicenses(db.url, (await benchSecrets()).LICENSE_KEY_PEPPER, 10_000);
		// pgbench picks a seeded license by number; its key hash and hardware id come from this
		// side table (the same lookup cost in every script, `select 1` aside).
		const sql = postgres(db.url, { max: 1, onnotice: () => {} });
		await sql.unsafe(`
			create table bench_keys as
				select row_number() over (order by l.id) as n, l.key_hash, a.hardware_id
				from licenses l join activations a on a.license_id = l.id;
			create unique index on bench_keys (n);
			analyze`);
		await sql.end();
		const params = (q: string) =>
			q
				.replaceAll("$1", "(select key_hash from bench_keys where n = :n)")
				.replaceAll("$2", "(select hardware_id from bench_keys where n = :n)")
				.replaceAll("$3", "'aud_' || md5(random()::text)")
				.replaceAll("$4", "'127.0.0.1'")
				.replaceAll("$5", "'pgbench'");
		const tps = async (name: string, statement: string): Promise<number> => {
			const file = join(tmpdir(), `coditect-pgbench-${name}.sql`);
			await writeFile(file, `\\set n random(1, 10000)\n${statement.replace(/\s+/g, " ")};\n`);
			const out = await run("pgbench", [
				"-n",
				"-M",
				"prepared",
				"-c",
				"8",
				"-j",
				"2",
				"-T",
				String(seconds),
				"-f",
				file,
				db.url,
			]);
			return Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
		};
		const base = await tps("select1", "select 1");
		const full = await tps("validate", params(VALIDATE_SQL));
		const read = await tps("read", params(READ_PART));
		const row = (name: string, value: number): BenchRow => ({
			name,
			value: `${fmt(value)} tps = ${fmt((value / base) * 100)} % of \`select 1\``,
		});
		return {
			rows: [
				{ name: "pgbench: `select 1`", value: `${fmt(base)} tps` },
				row("pgbench: the validate statement (lookup + activation stamp + audit row)", full),
				row("pgbench: its read part alone (no write)", read),
			],
		};
	} finally {
		await db.drop();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	for (const r of (await runStatementBench()).rows) console.log(`${r.name}: ${r.value}`);
}
