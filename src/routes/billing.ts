import { Hono, type MiddlewareHandler } from "hono";
import { html } from "hono/html";
import * as z from "zod";
import { apiError } from "../errors";
import { requireUser } from "../middleware/auth";
import { validate } from "../middleware/validate";
import type { AppEnv } from "../services";
import { NoBody } from "./schemas";

const CheckoutBody = z.strictObject({
	plan: z.string().min(1).max(32),
	interval: z.enum(["month", "year"]).default("month"),
	seats: z.number().int().min(1).max(10_000).optional(),
	org_id: z.string().min(1).max(64).optional(),
});

/** Before authentication: a server without Stripe says so the same way to everyone. */
function requireBilling(): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		if (!c.get("services").config.settings.STRIPE_SECRET_KEY) {
			throw apiError("BILLING_NOT_CONFIGURED");
		}
		await next();
	};
}

/**
 * docs/api.md §3.4, for the logged-in user. Middleware is per route, not `use()`: this router is also
 * mounted at `/billing`, next to the public pages.
 */
export const billingRoutes = new Hono<AppEnv>()
	.post("/checkout", requireBilling(), requireUser(), validate("json", CheckoutBody), async (c) => {
		const checkout = c.get("services").billing.checkout();
		return c.json(await checkout.checkout(c.get("user"), c.req.valid("json")), 200);
	})
	.post("/portal", requireBilling(), requireUser(), validate("json", NoBody), async (c) => {
		const checkout = c.get("services").billing.checkout();
		return c.json(await checkout.portal(c.get("user")), 200);
	});

/** Inline styles only; nothing else may load (docs/api.md §3.6: pages get the CSP they need). */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

function page(title: string, lines: string[], command: string) {
	return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · CODITECT</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1b1f}
code{background:#f1f1f4;padding:.15rem .35rem;border-radius:4px}
</style>
</head>
<body>
<h1>${title}</h1>
${lines.map((l) => html`<p>${l}</p>`)}
<p><code>${command}</code></p>
</body>
</html>`;
}

/** Where Checkout and the Portal send people back: what happened and what to run next. */
export const billingPages = new Hono<AppEnv>()
	.get("/success", (c) => {
		c.header("Content-Security-Policy", PAGE_CSP);
		return c.html(
			page(
				"You're all set",
				[
					"Thank you. Your subscription is confirmed with our payment provider, and your license appears within a minute.",
					"If coditect upgrade is still waiting in your terminal, it picks the license up by itself. Otherwise activate this machine with:",
				],
				"coditect activate",
			),
		);
	})
	.get("/cancel", (c) => {
		c.header("Content-Security-Policy", PAGE_CSP);
		return c.html(
			page(
				"Checkout canceled",
				["Nothing was charged. When you are ready, start again from your terminal:"],
				"coditect upgrade",
			),
		);
	});
