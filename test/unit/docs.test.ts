/**
 * The docs folder stands alone: its worked token example is the generated, verified one, and
 * neither it nor the README points at files a clone does not have.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DOC, tokenExample, withExample } from "../../scripts/token-example";

const root = resolve(import.meta.dirname, "../..");

async function markdownFiles(): Promise<string[]> {
	const docs = (await readdir(resolve(root, "docs"))).filter((f) => f.endsWith(".md"));
	return ["README.md", "bench/README.md", "keys/README.md", ...docs.map((f) => `docs/${f}`)];
}

describe("docs/license-token.md", () => {
	it("shows exactly the example scripts/token-example.ts verifies (npm run docs:token-example)", async () => {
		const doc = await readFile(DOC, "utf8");
		expect(withExample(doc, await tokenExample())).toBe(doc);
	});
});

describe("the repository's documentation", () => {
	it("cites nothing outside the repository", async () => {
		for (const file of await markdownFiles()) {
			const text = await readFile(resolve(root, file), "utf8");
			expect(text, file).not.toMatch(/SPEC\.md|PLATFORM\.md|STYLE\.md|\.\.\/shared/);
		}
	});

	it("links only to files that exist", async () => {
		for (const file of await markdownFiles()) {
			const text = await readFile(resolve(root, file), "utf8");
			for (const [, target = ""] of text.matchAll(/\]\((?!https?:|#|mailto:)([^)#\s]+)/g)) {
				const path = resolve(dirname(resolve(root, file)), target);
				await expect(
					stat(path).then(() => true),
					`${file} → ${target}`,
				).resolves.toBe(true);
			}
		}
	});
});
