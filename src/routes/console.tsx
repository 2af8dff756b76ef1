/**
 * The operator console at /admin (docs/api.md §3.10): server-rendered pages over the same
 * services as the JSON API in ./admin.ts, so every edit is audited where the API's is.
 *
 * Session: POST /admin/login exchanges the ADMIN token for a signed 30-minute cookie
 * (../console/session.ts), HttpOnly, SameSite=Strict, Path=/admin, Secure when PUBLIC_URL is
 * https. Every POST needs the session's CSRF token in the form and, from a browser, an
 * Origin (or Sec-Fetch-Site) of this site. Pages allow styles from this origin and nothing
 * else: no script at all, charts are inline SVG.
 */
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import * as z from "zod";
import { searchUsers } from "../accounts/directory";
import { inviteBatch, listInviteBatches } from "../accounts/invite-batches";
import { recordAudit } from "../audit/log";
import { readAudit } from "../audit/query";
import {
	type ConsoleSession,
	openSession,
	readSession,
	SESSION_COOKIE,
	SESSION_SECONDS,
	sameString,
} from "../console/session";
import { CONSOLE_CSS } from "../console/style";
import {
	ActivationsPage,
	AuditPage,
	DashboardPage,
	ErrorPage,
	InviteBatchPage,
	InvitesPage,
	LicenseDetailPage,
	LicensesPage,
	LoginPage,
	OrgsPage,
	UsersPage,
} from "../console/views";
import { ApiError, apiError } from "../errors";
import { searchActivations } from "../licenses/machines";
import { searchLicenses } from "../licenses/search";
import { launchMetrics, launchSeries } from "../metrics/dashboard";
import { timingSafeEqualStrings } from "../middleware/auth";
import { MAX_BODY_BYTES, readLimited } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { invalidFields } from "../middleware/validate";
import { documented } from "../openapi/tags";
import { searchOrgs } from "../orgs/directory";
import { addressBucket } from "../ratelimit/limiter";
import type { AppEnv } from "../services";
import {
	ActivationsQuery,
	AuditQuery,
	CreateInvitesBody,
	OrgsQuery,
	pageLimitCursor,
	UsersQuery,
} from "./admin";
import { SearchLicensesQuery, UpdateLicenseBody } from "./licenses";

/** Styles from this origin only; forms post only here; nothing may frame the console. */
export const CONSOLE_CSP = [
	"default-src 'none'",
	"style-src 'self'",
	"img-src 'self'",
	"form-action 'self'",
	"base-uri 'none'",
	"frame-ancestors 'none'",
].join("; ");

type ConsoleEnv = AppEnv & { Variables: { consoleSession: ConsoleSession } };
type C = Context<ConsoleEnv>;

/** Without ADMIN_TOKEN there is no console (404), as there is no admin API. */
const consoleExists: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
	if (!c.get("services").config.settings.ADMIN_TOKEN) throw apiError("NOT_FOUND");
	await next();
	// The app's error handler has answered with the contract's error body. A person (a browser
	// asks for text/html) gets a page with the same status instead. Not a sub-app onError: that
	// would wrap every handler and hide the middleware the OpenAPI document reads.
	const err = c.error;
	if (err instanceof ApiError && (c.req.header("accept") ?? "").includes("text/html")) {
		c.res = undefined;
		for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
		c.res = await c.html(<ErrorPage status={err.status} message={err.message} />, err.status);
	}
	// Pages only: the stylesheet, redirects and error bodies keep the default policy.
	if (c.res.headers.get("content-type")?.startsWith("text/html"))
		c.res.headers.set("Content-Security-Policy", CONSOLE_CSP);
};

async function sessionOf(c: C): Promise<ConsoleSession | null> {
	const cookie = c.req.header("cookie") ?? "";
	const value = cookie
		.split(/;\s*/)
		.find((part) => part.startsWith(`${SESSION_COOKIE}=`))
		?.slice(SESSION_COOKIE.length + 1);
	return readSession(c.get("services").config, value);
}

/** Pages: without a live session, to the sign-in page. */
const page: MiddlewareHandler<ConsoleEnv> = documented(
	async (c, next) => {
		const session = await sessionOf(c);
		if (!session) return c.redirect("/admin", 303);
		c.set("consoleSession", session);
		await next();
	},
	{ kind: "auth", scheme: "console" },
);

/**
 * A browser's cross-site POST names its origin: only this site's, as the request reached us or
 * as PUBLIC_URL says, is accepted. Under `Referrer-Policy: no-referrer` (every answer's) a
 * browser sends `Origin: null` even for its own forms, so then Sec-Fetch-Site decides, which
 * every current browser sends. A client that sends neither is no browser, and no browser can
 * be made to forge its request; the CSRF token still has to be right.
 */
function fromThisSite(c: C): boolean {
	const origin = c.req.header("origin");
	if (origin !== undefined && origin !== "null") {
		const ours = [new URL(c.req.url).origin, new URL(c.get("services").config.issuer).origin];
		return ours.includes(origin);
	}
	const site = c.req.header("sec-fetch-site");
	if (site !== undefined) return site === "same-origin";
	return origin === undefined;
}

const forbidden = () =>
	apiError("FORBIDDEN", "This form is stale or was not sent from the console: reload and retry.");

/** Form POSTs: a live session, this site, and the session's CSRF token in the body. */
const write: MiddlewareHandler<ConsoleEnv> = documented(
	async (c, next) => {
		const session = await sessionOf(c);
		if (!session || !fromThisSite(c)) throw forbidden();
		c.set("consoleSession", session);
		await next();
	},
	{ kind: "auth", scheme: "console" },
);

/**
 * The urlencoded body (16 KiB at most, as every JSON body), one value per field. The JSON
 * guard skips /admin, so the size and type checks are made here.
 */
async function formOf(c: C): Promise<Record<string, string>> {
	const raw = c.req.raw;
	const declared = raw.headers.get("content-length");
	if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > MAX_BODY_BYTES))
		throw apiError("PAYLOAD_TOO_LARGE");
	const bytes = raw.body ? await readLimited(raw.body, MAX_BODY_BYTES) : new Uint8Array(0);
	// After the size check, as for JSON: an oversized body is a 413 whatever its type.
	const type = (raw.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
	if (type !== "application/x-www-form-urlencoded") throw apiError("UNSUPPORTED_MEDIA_TYPE");
	let text: string;
	try {
		text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
	} catch {
		throw invalidFields([{ code: "custom", path: [], message: "not UTF-8", input: undefined }]);
	}
	const out: Record<string, string> = {};
	const repeated: string[] = [];
	for (const [k, v] of new URLSearchParams(text)) {
		if (k in out) repeated.push(k);
		out[k] = v;
	}
	if (repeated.length > 0)
		throw invalidFields(
			repeated.map((k) => ({ code: "custom", path: [k], message: "repeated", input: undefined })),
		);
	return out;
}

/** The form without its CSRF token, once that token proved to be this session's. */
async function checkedForm(c: C): Promise<Record<string, string>> {
	const { csrf, ...fields } = await formOf(c);
	if (!csrf || !sameString(csrf, c.get("consoleSession").csrf)) throw forbidden();
	return fields;
}

function parsed<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
	const result = schema.safeParse(input);
	if (!result.success) throw invalidFields(result.error.issues);
	return result.data;
}

/** A search form's query: empty fields mean "any", the rest go through the API's own schema. */
function queryOf<T extends z.ZodType>(
	c: C,
	schema: T,
): { q: z.output<T>; filters: Record<string, string> } {
	const filters: Record<string, string> = {};
	for (const [k, v] of Object.entries(c.req.query())) if (v !== "") filters[k] = v;
	return { q: parsed(schema, filters), filters };
}

const perIp = (c: Context<AppEnv>) => {
	const ip = c.get("services").meta.ip;
	return ip === null ? "unknown" : addressBucket(ip);
};

function sessionCookie(c: C, value: string, maxAge: number): string {
	const secure = c.get("services").config.issuer.startsWith("https:") ? "; Secure" : "";
	return `${SESSION_COOKIE}=${value}; Path=/admin; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
}

/** `?saved=1` after an edit's redirect. */
const DetailQuery = z.strictObject({ saved: z.literal("1").optional() });

const csrfOf = (c: C) => c.get("consoleSession").csrf;

export const consoleRoutes = new Hono<ConsoleEnv>()
	.use(consoleExists)
	.get("/", async (c) => {
		if (await sessionOf(c)) return c.redirect("/admin/dashboard", 303);
		return c.html(<LoginPage />, 200);
	})
	.get("/console.css", (c) => {
		c.header("Cache-Control", "public, max-age=300");
		return c.body(CONSOLE_CSS, 200, { "Content-Type": "text/css; charset=utf-8" });
	})
	.post("/login", rateLimit("admin_login", perIp), async (c) => {
		if (!fromThisSite(c)) throw forbidden();
		const { token, ...rest } = await formOf(c);
		if (Object.keys(rest).length > 0)
			throw invalidFields(
				Object.keys(rest).map((k) => ({
					code: "custom",
					path: [k],
					message: "unexpected",
					input: undefined,
				})),
			);
		const { config, db, meta } = c.get("services");
		const expected = config.settings.ADMIN_TOKEN ?? "";
		const ok =
			token !== undefined && token.length <= 512 && (await timingSafeEqualStrings(token, expected));
		if (!ok) {
			await recordAudit(db, meta, { action: "admin_login", result: "wrong_token" });
			return c.html(<LoginPage error="That is not this server's operator token." />, 401);
		}
		const { value, session } = await openSession(config);
		await recordAudit(db, meta, {
			action: "admin_login",
			result: "success",
			detail: { expires_at: new Date(session.expiresAt * 1000).toISOString() },
		});
		c.header("Set-Cookie", sessionCookie(c, value, SESSION_SECONDS));
		return c.redirect("/admin/dashboard", 303);
	})
	.post("/logout", write, async (c) => {
		await checkedForm(c);
		const { db, meta } = c.get("services");
		await recordAudit(db, meta, { action: "admin_logout", result: "success" });
		c.header("Set-Cookie", sessionCookie(c, "", 0));
		return c.redirect("/admin", 303);
	})
	.get("/dashboard", page, async (c) => {
		// Figures may lag by Hyperdrive's cache (≤ 1 min), as the JSON dashboard's do.
		const { cachedDb } = c.get("services");
		const [metrics, days] = await Promise.all([
			launchMetrics(cachedDb),
			launchSeries(cachedDb, 30),
		]);
		return c.html(<DashboardPage csrf={csrfOf(c)} metrics={metrics} days={days} />, 200);
	})
	.get("/licenses", page, async (c) => {
		const { q, filters } = queryOf(c, SearchLicensesQuery);
		const res = await searchLicenses(c.get("services").db, q);
		return c.html(
			<LicensesPage
				csrf={csrfOf(c)}
				filters={filters}
				licenses={res.licenses}
				next={res.next_cursor}
			/>,
			200,
		);
	})
	.get("/licenses/:id", page, async (c) => {
		const id = c.req.param("id");
		const { q } = queryOf(c, DetailQuery);
		const { db } = c.get("services");
		const [license] = /^lic_[0-9a-z]{1,40}$/.test(id)
			? (await searchLicenses(db, { id, limit: 1 })).licenses
			: [];
		if (!license) throw apiError("LICENSE_NOT_FOUND");
		const [machines, audit] = await Promise.all([
			searchActivations(db, { license_id: id, limit: 50 }),
			readAudit(db, { license_id: id, limit: 20 }),
		]);
		return c.html(
			<LicenseDetailPage
				csrf={csrfOf(c)}
				license={license}
				activations={machines.activations}
				events={audit.events}
				saved={q.saved === "1"}
			/>,
			200,
		);
	})
	.post("/licenses/:id", write, async (c) => {
		const { max_activations, expires_at, owner_email, ...rest } = await checkedForm(c);
		const body = parsed(UpdateLicenseBody, {
			...rest,
			...(max_activations === undefined
				? {}
				: {
						max_activations: /^\d{1,6}$/.test(max_activations)
							? Number(max_activations)
							: max_activations,
					}),
			...(expires_at === undefined
				? {}
				: { expires_at: expires_at.trim() === "" ? null : expires_at.trim() }),
			...(owner_email === undefined
				? {}
				: { owner_email: owner_email.trim() === "" ? null : owner_email.trim() }),
		});
		const id = c.req.param("id");
		if (!/^lic_[0-9a-z]{1,40}$/.test(id)) throw apiError("LICENSE_NOT_FOUND");
		await c.get("services").licenses.update(id, body);
		return c.redirect(`/admin/licenses/${id}?saved=1`, 303);
	})
	.post("/licenses/:id/:action{suspend|reinstate|revoke}", write, async (c) => {
		const fields = await checkedForm(c);
		parsed(z.strictObject({}), fields);
		const id = c.req.param("id");
		if (!/^lic_[0-9a-z]{1,40}$/.test(id)) throw apiError("LICENSE_NOT_FOUND");
		const action = c.req.param("action") as "suspend" | "reinstate" | "revoke";
		// The API's service: audited `license_status_change`, a revoked license stays revoked (409).
		await c.get("services").licenses.setStatus(id, action);
		return c.redirect(`/admin/licenses/${id}?saved=1`, 303);
	})
	.get("/users", page, async (c) => {
		const { q, filters } = queryOf(c, UsersQuery);
		const res = await searchUsers(c.get("services").db, q);
		return c.html(
			<UsersPage csrf={csrfOf(c)} filters={filters} users={res.users} next={res.next_cursor} />,
			200,
		);
	})
	.get("/orgs", page, async (c) => {
		const { q, filters } = queryOf(c, OrgsQuery);
		const res = await searchOrgs(c.get("services").db, q);
		return c.html(
			<OrgsPage csrf={csrfOf(c)} filters={filters} orgs={res.orgs} next={res.next_cursor} />,
			200,
		);
	})
	.get("/activations", page, async (c) => {
		const { q, filters } = queryOf(c, ActivationsQuery);
		const res = await searchActivations(c.get("services").db, q);
		return c.html(
			<ActivationsPage
				csrf={csrfOf(c)}
				filters={filters}
				activations={res.activations}
				next={res.next_cursor}
			/>,
			200,
		);
	})
	.get("/audit", page, async (c) => {
		const { q, filters } = queryOf(c, AuditQuery);
		const res = await readAudit(c.get("services").db, q);
		return c.html(
			<AuditPage csrf={csrfOf(c)} filters={filters} events={res.events} next={res.next_cursor} />,
			200,
		);
	})
	.get("/invites", page, async (c) => {
		const { q } = queryOf(c, pageLimitCursor);
		const res = await listInviteBatches(c.get("services").db, q);
		return c.html(
			<InvitesPage csrf={csrfOf(c)} batches={res.batches} next={res.next_cursor} />,
			200,
		);
	})
	.post("/invites", write, async (c) => {
		const { count, label, ...rest } = await checkedForm(c);
		const body = parsed(CreateInvitesBody, {
			...rest,
			count: count !== undefined && /^\d{1,3}$/.test(count) ? Number(count) : count,
			...(label === undefined || label.trim() === "" ? {} : { label }),
		});
		const { accounts, db } = c.get("services");
		const created = await accounts.createInvites(body.count, body.label);
		const res = await listInviteBatches(db, {});
		return c.html(
			<InvitesPage
				csrf={csrfOf(c)}
				batches={res.batches}
				next={res.next_cursor}
				created={created}
			/>,
			201,
		);
	})
	.get("/invites/:id", page, async (c) => {
		const id = c.req.param("id");
		if (!/^ivb_[0-9a-z]{20}$/.test(id)) throw apiError("NOT_FOUND", "No invite batch has this id.");
		return c.html(
			<InviteBatchPage csrf={csrfOf(c)} batch={await inviteBatch(c.get("services").db, id)} />,
			200,
		);
	});
