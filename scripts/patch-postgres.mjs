/**
 * postinstall: guards postgres.js 3.4.9's nextWrite against a closed socket.
 *
 * When a backend dies inside a transaction (Postgres restarted, pg_terminate_backend, our own
 * idle_in_transaction_session_timeout), postgres.js sends ROLLBACK on the dead reserved
 * connection; the write is deferred with setImmediate and then calls `socket.write` on null,
 * an uncaught TypeError that kills the whole Node server (test/node/faults.test.ts found it;
 * upstream porsager/postgres#1154 and #1208, fix proposed in #1209, not released). The guard
 * is #1209's: settle the pending queries with CONNECTION_CLOSED instead of writing. Idempotent;
 * does nothing once a postgres.js release has its own guard. Also run before `npm start` and
 * `npm test`: a node_modules made without this project's scripts (`--ignore-scripts`, a copied
 * tree) lacks the guard, and a checkout here once ran its fault suite so (the crash came back
 * as an unhandled error).
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../node_modules/postgres/", import.meta.url));
const unguarded = "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)";
const guarded = `  function nextWrite(fn) {
    if (!socket) { // patched by scripts/patch-postgres.mjs (porsager/postgres#1208)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)`;

for (const file of ["src/connection.js", "cjs/src/connection.js", "cf/src/connection.js"]) {
	const path = root + file;
	let text;
	try {
		text = await readFile(path, "utf8");
	} catch {
		continue; // postgres not installed (yet), or a layout without this build
	}
	if (text.includes(unguarded)) {
		await writeFile(path, text.replace(unguarded, guarded));
		console.log(`patched ${file}: nextWrite guarded against a closed socket`);
	}
}
