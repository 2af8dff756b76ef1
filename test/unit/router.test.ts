import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { newApp } from "../../src/app";
import { StaticMemoRouter } from "../../src/router";
import type { Runtime } from "../../src/services";

/** The app's own route table; the runtime is never called while routes are only listed. */
const table = newApp({} as Runtime).routes.map((r, i) => ({
	method: r.method,
	path: r.path,
	id: i,
}));

function both() {
	const memo = new StaticMemoRouter<number>();
	const trie = new TrieRouter<number>();
	for (const r of table) {
		memo.add(r.method, r.path, r.id);
		trie.add(r.method, r.path, r.id);
	}
	return { memo, trie };
}

/** Every registered path with its parameters filled in, and paths no route has. */
const probes = [
	...new Set(
		table.map((r) =>
			r.path.replace(/:[a-z_]+(\{[^}]+\})?/g, "x1").replace(/\/\*$/, "/anything/deeper"),
		),
	),
	"/api/v1/licenses/validate/",
	"/api/v1/licenses/VALIDATE",
	"/nowhere",
	"/",
];

describe("StaticMemoRouter", () => {
	it("answers exactly as TrieRouter for every route of the app, every method, twice", () => {
		const { memo, trie } = both();
		for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"]) {
			for (const path of probes) {
				const expected = trie.match(method, path);
				expect(memo.match(method, path), `${method} ${path}`).toEqual(expected);
				expect(memo.match(method, path), `${method} ${path} (kept)`).toEqual(expected);
			}
		}
	});

	it("keeps the answer of a static path and of no other", () => {
		const { memo } = both();
		const first = memo.match("POST", "/api/v1/licenses/validate");
		expect(first[0].length).toBeGreaterThan(1); // the middleware and the route
		expect(memo.match("POST", "/api/v1/licenses/validate")).toBe(first);
		// A parameter in the path: ids are unbounded, so nothing is kept for them.
		const keys = "/api/v1/licenses/lic_1/keys";
		expect(memo.match("POST", keys)).not.toBe(memo.match("POST", keys));
		// A method no route names (only ALL routes answer it) is not kept either.
		expect(memo.match("PROPFIND", "/healthz")).not.toBe(memo.match("PROPFIND", "/healthz"));
	});

	it("forgets kept answers when a route is added after them", () => {
		const memo = new StaticMemoRouter<string>();
		memo.add("ALL", "/*", "mw");
		memo.add("GET", "/a", "a");
		expect(memo.match("GET", "/a")[0].map(([h]) => h)).toEqual(["mw", "a"]);
		memo.add("GET", "/a", "a2");
		expect(memo.match("GET", "/a")[0].map(([h]) => h)).toEqual(["mw", "a", "a2"]);
	});
});
