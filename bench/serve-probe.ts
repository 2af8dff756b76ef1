/**
 * Child process of `npm run test:load` / `test:soak`: the real Node entry on DATABASE_URL,
 * nothing else in the process, so the load generator (the parent) never competes with it for
 * the event loop. Prints `{"url":…}` once, then every PROBE_MS a line with its memory
 * (`heapUsed` right after a full GC when started with --expose-gc), until killed.
 */
import { startServer } from "../src/server";

const running = await startServer({ port: 0, dataDir: null, log: () => {} });
console.log(JSON.stringify({ url: running.url, pid: process.pid }));
const gc = (globalThis as { gc?: () => void }).gc;
setInterval(
	() => {
		gc?.();
		const m = process.memoryUsage();
		console.log(JSON.stringify({ memory: { rss: m.rss, heapUsed: m.heapUsed, at: Date.now() } }));
	},
	Number(process.env.PROBE_MS ?? 5000),
);
process.on("SIGTERM", () => {
	void running.close().then(() => process.exit(0));
});
