import { Hono } from "hono";
import { requireUser } from "../middleware/auth";
import type { AppEnv } from "../services";

/** GET /api/v1/me */
export const meRoutes = new Hono<AppEnv>().use(requireUser()).get("/", async (c) => {
	const { licenses } = c.get("services");
	const user = c.get("user");
	return c.json(
		{ user: { id: user.id, email: user.email }, licenses: await licenses.listOwned(user.id) },
		200,
	);
});
