/**
 * Child process of the Node benchmark: the real Node entry on DATABASE_URL, and beside it the
 * baseline — a bare Hono app whose one route does a pooled `select 1` (same pool size).
 * Prints one JSON line with both URLs, then serves until killed.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import postgres from "postgres";
import { startServer } from "../src/server";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required");
const running = await startServer({ port: 0, dataDir: null, log: () => {} });

const pool = postgres(url, {
	max: Number(process.env.DATABASE_POOL_MAX ?? 20),
	fetch_types: false,
});
const baseline = new Hono().get("/select1", async (c) => {
	await pool`select 1`;
	return c.json({ ok: true });
});
const server = serve({ fetch: baseline.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((ok) => server.once("listening", ok));
const port = (server.address() as AddressInfo).port;
console.log(JSON.stringify({ url: running.url, baseline: `http://127.0.0.1:${port}/select1` }));
process.on("SIGTERM", () => process.exit(0));
