/**
 * Hono's TrieRouter with the answer for each registered static path kept.
 *
 * Hono's default SmartRouter prefers RegExpRouter, which answers a static path from a prebuilt
 * map; but RegExpRouter refuses our route table (`POST /api/v1/licenses/validate` beside
 * `POST /api/v1/licenses/:id/keys`: a parameter beside a literal in one segment), so every
 * request fell through to TrieRouter, which walks the tree, collects and sorts the handler sets
 * and allocates the answer again each time (~3 KB and ~8 µs a validate). This keeps TrieRouter's
 * answers as they are: only the exact (method, path) pairs of paths with no parameter or
 * wildcard are remembered, so the memo is bounded by the route table, and each remembered
 * answer is the one TrieRouter gave for that very input. Hono reads a match result and never
 * writes it (RegExpRouter hands out shared static answers the same way).
 */
import type { Result, Router } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";

export class StaticMemoRouter<T> implements Router<T> {
	name = "StaticMemoRouter";
	readonly #trie = new TrieRouter<T>();
	readonly #staticPaths = new Set<string>();
	/** method → path → answer; methods only as registered (any other goes to the trie). */
	readonly #memo = new Map<string, Map<string, Result<T>>>();

	add(method: string, path: string, handler: T): void {
		this.#trie.add(method, path, handler);
		if (!/[:*?{]/.test(path)) this.#staticPaths.add(path);
		// "ALL" routes answer any method, but only methods some route names are worth a memo entry.
		if (method !== "ALL" && !this.#memo.has(method)) this.#memo.set(method, new Map());
		// A route added after answers were kept changes them: start over.
		for (const answers of this.#memo.values()) answers.clear();
	}

	match(method: string, path: string): Result<T> {
		const answers = this.#memo.get(method);
		if (answers === undefined || !this.#staticPaths.has(path))
			return this.#trie.match(method, path);
		let answer = answers.get(path);
		if (answer === undefined) {
			answer = this.#trie.match(method, path);
			answers.set(path, answer);
		}
		return answer;
	}
}
