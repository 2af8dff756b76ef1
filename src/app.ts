/**
 * The application, the same on Workers and Node: middleware order, routes per resource,
 * one error handler, 404/405. Entry points only supply a Runtime.
 */
import { Hono } from "hono";
import { matchedRoutes } from "hono/route";
import { ApiError, apiError, errorResponse, onError } from "./errors";
import { jsonBody } from "./middleware/json-body";
import { requestLine } from "./middleware/request-log";
import { securityHeaders } from "./middleware/security-headers";
import { StaticMemoRouter } from "./router";
import { adminRoutes } from "./routes/admin";
import { authRoutes, seedAuthRoutes } from "./routes/auth";
import { billingPages, billingRoutes } from "./routes/billing";
import { ciRoutes, orgCiRoutes } from "./routes/ci";
import { consoleRoutes } from "./routes/console";
import { docsRoutes } from "./routes/docs";
import { keyHolderRoutes, ownerLicenseRoutes } from "./routes/licenses";
import { meRoutes } from "./routes/me";
import { invitationRoutes, orgRoutes } from "./routes/orgs";
import { publicRoutes } from "./routes/public";
import { orgSsoRoutes } from "./routes/sso";
import { webhookRoutes } from "./routes/webhooks";
import { orgWebhookRoutes } from "./routes/webhooks-out";
import type { AppEnv } from "./services";
import { type Runtime, servicesMiddleware } from "./services";

const CONSOLE_PATH = /^\/admin(\/|$)/;

export function newApp(runtime: Runtime): Hono<AppEnv> {
	const app = new Hono<AppEnv>({ router: new StaticMemoRouter() });

	// Outermost: the request id, the edge headers and the log line, in one layer.
	app.use(securityHeaders(runtime.requestLog && requestLine(runtime.requestLog)));
	// Then, in one layer (each layer is one more async dispatch in Hono's compose, on every
	// request), the JSON body guard and the request's services. Raw bodies are the webhook's
	// business (its signature covers the exact bytes). A request no handler serves gets its
	// 404/405 without its body being read (a wrong method is a 405, not 415). The console's
	// forms are urlencoded; src/routes/console.tsx reads them under the same limit.
	const body = jsonBody();
	const services = servicesMiddleware(runtime);
	// Not async: each hands back the next one's promise (an async wrapper adds one more).
	app.use((c, next) =>
		c.req.path.startsWith("/webhooks/") ||
		CONSOLE_PATH.test(c.req.path) ||
		!matchedRoutes(c).some((r) => r.method !== "ALL")
			? services(c, next)
			: body(c, () => services(c, next) as Promise<void>),
	);

	app.route("/", publicRoutes);
	app.route("/api/v1/auth", authRoutes);
	app.route("/auth", seedAuthRoutes); // seed aliases for older clients
	app.route("/api/v1/me", meRoutes);
	app.route("/api/v1/licenses", keyHolderRoutes);
	app.route("/api/v1/licenses", ownerLicenseRoutes);
	app.route("/licenses", keyHolderRoutes); // seed alias for older clients
	app.route("/api/v1/orgs", orgRoutes);
	app.route("/api/v1/invitations", invitationRoutes);
	app.route("/api/v1/admin", adminRoutes);
	app.route("/billing", billingPages);
	app.route("/api/v1/billing", billingRoutes);
	app.route("/billing", billingRoutes); // seed alias for older clients
	app.route("/api/v1/orgs", orgCiRoutes);
	app.route("/api/v1/orgs", orgSsoRoutes);
	app.route("/api/v1/orgs", orgWebhookRoutes);
	app.route("/api/v1/ci", ciRoutes);
	app.route("/webhooks", webhookRoutes);
	app.route("/admin", consoleRoutes);
	app.route("/", docsRoutes(app, runtime));

	app.notFound((c) => {
		const allowed = allowedMethods(app, c.req.path);
		if (allowed.length > 0) {
			return errorResponse(
				c,
				new ApiError("METHOD_NOT_ALLOWED", "This method is not allowed on this route.", {
					headers: { Allow: allowed.join(", ") },
				}),
			);
		}
		return errorResponse(c, apiError("NOT_FOUND", "No route matches this path."));
	});
	app.onError(onError);
	return app;
}

/** Methods registered for a path, to tell 405 from 404 (Hono itself only knows 404). */
function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
	const methods = new Set<string>();
	for (const route of app.routes) {
		if (route.method === "ALL") continue;
		if (routePattern(route.path).test(path)) methods.add(route.method);
	}
	return [...methods].sort();
}

const patterns = new Map<string, RegExp>();
function routePattern(path: string): RegExp {
	let re = patterns.get(path);
	if (!re) {
		const body = path
			.split("/")
			.map((seg) => {
				if (seg.startsWith(":")) {
					const custom = seg.match(/\{(.+)\}$/);
					return custom ? `(?:${custom[1]})` : "[^/]+";
				}
				return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
			})
			.join("/");
		re = new RegExp(`^${body}/?$`);
		patterns.set(path, re);
	}
	return re;
}
