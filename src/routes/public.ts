import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { apiError } from "../errors";
import type { AppEnv } from "../services";

export const publicRoutes = new Hono<AppEnv>()
	.get("/healthz", async (c) => {
		const { db } = c.get("services");
		try {
			await db.execute(sql`select 1`);
		} catch {
			throw apiError("SERVICE_UNAVAILABLE", "The database is not answering.");
		}
		return c.json({ status: "ok" }, 200);
	})
	.get("/.well-known/jwks.json", (c) => {
		const { config } = c.get("services");
		// Public by nature; a short cache keeps CLIs from hammering it after a rotation.
		c.header("Cache-Control", "public, max-age=300");
		return c.json({ keys: config.jwks }, 200);
	});
