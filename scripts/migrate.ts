/** `npm run db:migrate`: applies drizzle/ to DATABASE_URL (or the embedded database in .data/). */
import { resolve } from "node:path";
import { openDatabase } from "../src/node/database";

const database = await openDatabase({
	url: process.env.DATABASE_URL || undefined,
	dataDir: resolve(".data/pglite"),
	max: 1,
});
console.log(
	`migrations applied to ${database.embedded ? "the embedded database (.data/pglite)" : "DATABASE_URL"}`,
);
await database.close();
