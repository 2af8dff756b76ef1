/**
 * drizzle's migrator applies a migration only when its journal `when` is later than the last one
 * a database has applied: a file merged in with an earlier `when` is silently skipped on every
 * database that is already ahead of it. Branches each pick numbers, so keep the journal honest:
 * contiguous idx, file names that match, `when` strictly increasing, and no file left out.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const dir = resolve(dirname(fileURLToPath(import.meta.url)), "../../drizzle");
const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as {
	entries: Array<{ idx: number; when: number; tag: string }>;
};

describe("the migration journal", () => {
	it("numbers entries 0…n-1, each tag prefixed with its number", () => {
		journal.entries.forEach((entry, i) => {
			expect(entry.idx).toBe(i);
			expect(entry.tag.startsWith(`${String(i).padStart(4, "0")}_`), entry.tag).toBe(true);
		});
	});

	it("orders `when` strictly increasing, so no merged migration is skipped", () => {
		for (let i = 1; i < journal.entries.length; i++) {
			const [prev, cur] = [journal.entries[i - 1], journal.entries[i]];
			expect(cur?.when, cur?.tag).toBeGreaterThan(prev?.when ?? 0);
		}
	});

	it("lists every SQL file in drizzle/ and no file that is missing", () => {
		const files = readdirSync(dir)
			.filter((f) => f.endsWith(".sql"))
			.map((f) => f.slice(0, -4))
			.sort();
		expect(files).toEqual(journal.entries.map((e) => e.tag).sort());
	});
});
