import { Hono } from "hono";
import { readLimited } from "../middleware/json-body";
import type { AppEnv } from "../services";

/** Stripe's events are small; this only keeps a hostile sender from making us buffer megabytes. */
const MAX_WEBHOOK_BYTES = 256 * 1024;

/**
 * Inbound webhooks. The app's JSON guard skips `/webhooks/`: the signature covers the exact
 * bytes Stripe sent, so they are read here untouched.
 */
export const webhookRoutes = new Hono<AppEnv>().post("/stripe", async (c) => {
	const webhooks = c.get("services").billing.webhooks();
	const raw = c.req.raw.body;
	const body = raw ? await readLimited(raw, MAX_WEBHOOK_BYTES) : new Uint8Array(0);
	const outcome = await webhooks.receive(body, c.req.header("stripe-signature"));
	return c.json({ received: true, outcome }, 200);
});
