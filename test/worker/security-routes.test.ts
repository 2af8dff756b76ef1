/**
 * The security suite's route inventory: every route the app serves (read from the app itself,
 * so a new route without an entry here fails) gets the same checks, inside workerd against the
 * run's database: the §3.6 headers on every answer, the error shape, no stack trace or SQL,
 * strict bodies (unknown field 400, wrong content type 415, oversized 413 with and without
 * Content-Length, `__proto__` harmless, over-long values 400), 405 for other methods, and
 * never a 5xx except the documented 503 when the database is down and a generic 500 for a bug.
 */
import { env, exports } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { PasswordHasher } from "../../src/accounts/password";
import { newApp } from "../../src/app";
import { buildConfig, type Config } from "../../src/config";
import type { Database } from "../../src/db/client";
import { SettingsSchema, settingsFrom } from "../../src/env";
import { newId } from "../../src/ids";
import { memoryRateLimiter } from "../../src/ratelimit/limiter";
import type { Runtime } from "../../src/services";
import worker from "../../src/worker";
import { signedHeader } from "../support/billing";
import { sql } from "../support/database";
import { newMachine, releaseFile, requestFile } from "../support/offline-files";
import {
	type Answer,
	answerOf,
	expectErrorBody,
	expectNoLeak,
	expectSafe,
	expectSecurityHeaders,
	withoutRequestId,
} from "../support/route-checks";
import { ownedLicense, type SessionUser, sessionUser } from "../support/sessions";
import {
	call,
	consoleSession,
	createLicense,
	hardwareId,
	mintInvite,
	randomEmail,
	randomIp,
} from "../support/worker-client";

type Json = Record<string, unknown>;
/** The probe's own fresh user, made on first use (most routes need none). */
type Caller = () => Promise<SessionUser>;

interface RouteEntry {
	/**
	 * Who may call it: nobody special, a logged-in user, the operator, Stripe (signature), a
	 * CI job (an org API key of the probe user's org), or the operator's console session.
	 */
	auth: "none" | "user" | "admin" | "stripe" | "ci" | "console";
	/** The concrete path when the pattern has parameters; may create what it points at. */
	path?: (user: Caller) => Promise<string>;
	/** A body the route accepts; absent for GET and for routes that take no body. */
	body?: (user: Caller) => Promise<Json>;
	/**
	 * The operator console's form posts: the urlencoded fields a browser sends (the CSRF token is
	 * added for `console` routes). Such routes are not JSON routes: the JSON checks skip them.
	 */
	form?: () => Promise<Record<string, string>>;
	/** What a well-formed request answers here (some routes cannot reach a 2xx in a test). */
	ok: number[];
	/** Body fields whose valid values are objects (a map of claims): an object there is no error. */
	objectFields?: string[];
}

const licenseBody = async () => ({
	license_key: (await createLicense()).key,
	hardware_id: hardwareId(),
});
const activatedBody = async () => {
	const body = await licenseBody();
	const res = await call("/api/v1/licenses/activate", { json: body });
	if (res.status !== 201) throw new Error(`activation failed: ${res.status} ${res.text}`);
	return body;
};
const signupBody = async () => ({
	email: randomEmail("inventory"),
	password: "a long enough password",
	invite_code: await mintInvite(),
});
const loginBody = async () => ({
	email: randomEmail("nobody"),
	password: "a long enough password",
});
const refreshBody = async (u: Caller) => ({ refresh_token: (await u()).refreshToken });
const checkoutBody = async () => ({ plan: "starter", interval: "month" });

/** An org `owner` created through the API. */
async function orgOf(owner: SessionUser): Promise<string> {
	const res = await call<{ id: string }>("/api/v1/orgs", {
		json: { name: "Probe Inc" },
		headers: { authorization: `Bearer ${owner.accessToken}` },
	});
	if (res.status !== 201) throw new Error(`org failed: ${res.status} ${res.text}`);
	return res.body.id;
}

/** An org of `owner` with a second member (set up in the database: no seats needed). */
async function orgWithMember(owner: SessionUser): Promise<{ orgId: string; member: string }> {
	const orgId = await orgOf(owner);
	const other = await sessionUser("member");
	await sql("insert into org_members (id, org_id, user_id, role) values ($1, $2, $3, 'member')", [
		`seat_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`,
		orgId,
		other.id,
	]);
	return { orgId, member: other.id };
}

/**
 * Air-gapped uploads: the probe user's license with a request file for it, and (for the
 * release routes) a machine activated from that file with a receipt that frees it. Made once
 * per probe user, so the path and the body name the same license.
 */
const offlineSetups = new WeakMap<
	SessionUser,
	Promise<{ licenseId: string; request: Json; release: Json }>
>();
function offlineSetupOf(u: SessionUser) {
	let made = offlineSetups.get(u);
	if (!made) {
		made = (async () => {
			const { id: licenseId } = await ownedLicense(u);
			const request = requestFile(await newMachine(hardwareId()), licenseId);
			const machine = await newMachine(hardwareId());
			const held = requestFile(machine, licenseId);
			const res = await call<{ activation: { id: string } }>(
				`/api/v1/admin/licenses/${licenseId}/offline-activations`,
				{ json: held, admin: true },
			);
			if (res.status !== 201) throw new Error(`offline upload failed: ${res.status} ${res.text}`);
			const release = await releaseFile(
				machine,
				licenseId,
				res.body.activation.id,
				String(held.nonce),
			);
			return { licenseId, request, release };
		})();
		offlineSetups.set(u, made);
	}
	return made;
}
const offlineEntry = (
	auth: "user" | "admin",
	prefix: string,
	kind: "activations" | "deactivations",
): RouteEntry => ({
	auth,
	path: async (u) => `${prefix}/${(await offlineSetupOf(await u())).licenseId}/offline-${kind}`,
	body: async (u) => {
		const setup = await offlineSetupOf(await u());
		return kind === "activations" ? setup.request : setup.release;
	},
	ok: kind === "activations" ? [201] : [200],
	objectFields: ["machine_key"],
});

/** The probe user's org (owner), with an smb license and an API key; made once per user. */
const ciOrgs = new WeakMap<SessionUser, Promise<{ orgId: string; key: string }>>();
function ciOrgOf(u: SessionUser): Promise<{ orgId: string; key: string }> {
	let made = ciOrgs.get(u);
	if (!made) {
		made = (async () => {
			const orgId = newId("org");
			const { id: licenseId } = await createLicense({ plan: "smb" });
			await sql("insert into orgs (id, name) values ($1, 'inventory')", [orgId]);
			await sql(
				"insert into org_members (id, org_id, user_id, role) values ($1, $2, $3, 'owner')",
				[newId("seat"), orgId, u.id],
			);
			await sql("update licenses set org_id = $1 where id = $2", [orgId, licenseId]);
			const res = await call<{ key: string }>(`/api/v1/orgs/${orgId}/api-keys`, {
				json: { name: "inventory" },
				headers: { authorization: `Bearer ${u.accessToken}` },
			});
			if (res.status !== 201) throw new Error(`api key failed: ${res.status} ${res.text}`);
			return { orgId, key: res.body.key };
		})();
		ciOrgs.set(u, made);
	}
	return made;
}
const orgPath = (suffix: string) => async (u: Caller) =>
	`/api/v1/orgs/${(await ciOrgOf(await u())).orgId}${suffix}`;
const ruleBody = async () => ({
	name: "GitHub Actions",
	issuer: inject("oauthIssuer"),
	conditions: { repository_owner: "inventory" },
});
const ssoBody = async () => ({
	issuer: inject("oauthIssuer"),
	client_id: "inventory-client",
	client_secret: "inventory-secret",
});
const hookBody = async () => ({
	url: "https://hooks.example.com/coditect",
	events: ["license.created"],
});
/** A webhook endpoint of the probe user's org; its id. */
const hookOf = async (user: SessionUser): Promise<{ base: string; wid: string }> => {
	const base = `/api/v1/orgs/${(await ciOrgOf(user)).orgId}/webhooks`;
	const res = await call<{ endpoint: { id: string } }>(base, {
		json: await hookBody(),
		headers: { authorization: `Bearer ${user.accessToken}` },
	});
	if (res.status !== 201) throw new Error(`webhook failed: ${res.status} ${res.text}`);
	return { base, wid: res.body.endpoint.id };
};
/**
 * An operator endpoint's body. Each probe makes one, and the operator has room for 20 live:
 * those of earlier probes (their URL is this suite's alone) are disabled first. Its event is
 * one the other files hardly provoke, so it queues next to nothing of theirs meanwhile.
 */
const OPERATOR_PROBE_URL = "https://hooks.example.com/security-suite-operator";
const operatorHookBody = async () => {
	await sql(
		"update webhook_endpoints set disabled_at = now() where org_id is null and url = $1 and disabled_at is null",
		[OPERATOR_PROBE_URL],
	);
	return { url: OPERATOR_PROBE_URL, events: ["ci.lease_limit_reached"] };
};
/** An operator webhook endpoint; its id. */
const operatorHook = async (): Promise<string> => {
	const res = await call<{ endpoint: { id: string } }>("/api/v1/admin/webhooks", {
		json: await operatorHookBody(),
		admin: true,
	});
	if (res.status !== 201) throw new Error(`operator webhook failed: ${res.status} ${res.text}`);
	return res.body.endpoint.id;
};
const probeDomain = () => `probe-${crypto.randomUUID().slice(0, 8)}.example`;
const leaseOf = async (u: Caller): Promise<string> => {
	const res = await call<{ lease_id: string }>("/api/v1/ci/leases", {
		json: { job_id: crypto.randomUUID() },
		headers: { authorization: `Bearer ${(await ciOrgOf(await u())).key}` },
		ip: randomIp(),
	});
	if (res.status !== 201) throw new Error(`lease failed: ${res.status} ${res.text}`);
	return res.body.lease_id;
};

/** Every route of the app, with what it takes to call it well. */
const inventory: Record<string, RouteEntry> = {
	"GET /healthz": { auth: "none", ok: [200] },
	"GET /.well-known/jwks.json": { auth: "none", ok: [200] },
	"GET /openapi.json": { auth: "none", ok: [200] },
	"GET /docs": { auth: "none", ok: [200] },
	"GET /docs/:script{[a-z0-9.-]+\\.js}": {
		auth: "none",
		path: async () => "/docs/init.js",
		ok: [200],
	},
	"POST /api/v1/auth/signup": { auth: "none", body: signupBody, ok: [202] },
	"POST /auth/signup": { auth: "none", body: signupBody, ok: [202] },
	"POST /api/v1/auth/verify": {
		auth: "none",
		body: async () => ({ email: randomEmail(), code: "123456" }),
		ok: [400],
	},
	"POST /api/v1/auth/login": { auth: "none", body: loginBody, ok: [401] },
	"POST /auth/login": { auth: "none", body: loginBody, ok: [401] },
	"POST /api/v1/auth/refresh": { auth: "none", body: refreshBody, ok: [200] },
	"POST /api/v1/auth/oauth/refresh": { auth: "none", body: refreshBody, ok: [200] },
	"POST /api/v1/auth/logout": { auth: "user", body: refreshBody, ok: [204] },
	"POST /api/v1/auth/oauth/callback": {
		auth: "none",
		body: async () => ({
			provider: "github",
			code: "a-code-the-provider-never-issued",
			code_verifier: "v".repeat(43),
			redirect_uri: "http://127.0.0.1:53682/callback/github",
		}),
		ok: [400],
	},
	"GET /api/v1/auth/oauth/providers": { auth: "none", ok: [200] },
	// No org signs in example.test: the one 404 for unknown and unverified domains alike.
	"POST /api/v1/auth/sso/start": {
		auth: "none",
		body: async () => ({
			email: randomEmail("sso"),
			redirect_uri: "http://127.0.0.1:53682/callback/sso",
			code_challenge: "c".repeat(43),
		}),
		ok: [404],
	},
	"POST /api/v1/auth/sso/callback": {
		auth: "none",
		body: async () => ({
			state: "a-state-this-server-never-sealed.00",
			code: "a-code-the-provider-never-issued",
			code_verifier: "v".repeat(43),
			redirect_uri: "http://127.0.0.1:53682/callback/sso",
		}),
		ok: [400],
	},
	"GET /api/v1/me": { auth: "user", ok: [200] },
	"POST /api/v1/licenses/validate": { auth: "none", body: licenseBody, ok: [200] },
	"POST /licenses/validate": { auth: "none", body: licenseBody, ok: [200] },
	"POST /api/v1/licenses/activate": { auth: "none", body: licenseBody, ok: [201] },
	"POST /licenses/activate": { auth: "none", body: licenseBody, ok: [201] },
	"POST /api/v1/licenses/deactivate": { auth: "none", body: activatedBody, ok: [200] },
	"POST /licenses/deactivate": { auth: "none", body: activatedBody, ok: [200] },
	"GET /api/v1/licenses": { auth: "user", ok: [200] },
	"POST /api/v1/licenses/activate-mine": {
		auth: "user",
		body: async (u) => {
			await ownedLicense(await u());
			return { hardware_id: hardwareId(), hostname: "build-01", platform: "linux-x64" };
		},
		ok: [201],
	},
	"POST /api/v1/licenses/:id/keys": {
		auth: "user",
		path: async (u) => `/api/v1/licenses/${(await ownedLicense(await u())).id}/keys`,
		ok: [201],
	},
	"POST /api/v1/licenses/:id/offline-activations": offlineEntry(
		"user",
		"/api/v1/licenses",
		"activations",
	),
	"POST /api/v1/licenses/:id/offline-deactivations": offlineEntry(
		"user",
		"/api/v1/licenses",
		"deactivations",
	),
	"POST /api/v1/orgs": { auth: "user", body: async () => ({ name: "Probe Inc" }), ok: [201] },
	"GET /api/v1/orgs": { auth: "user", ok: [200] },
	"GET /api/v1/orgs/:id": {
		auth: "user",
		path: async (u) => `/api/v1/orgs/${await orgOf(await u())}`,
		ok: [200],
	},
	"POST /api/v1/orgs/:id/invitations": {
		auth: "user",
		path: async (u) => `/api/v1/orgs/${await orgOf(await u())}/invitations`,
		body: async () => ({ email: randomEmail("invitee"), role: "member" }),
		ok: [201],
	},
	"PATCH /api/v1/orgs/:id/members/:user_id": {
		auth: "user",
		path: async (u) => {
			const owner = await u();
			const { orgId, member } = await orgWithMember(owner);
			return `/api/v1/orgs/${orgId}/members/${member}`;
		},
		body: async () => ({ role: "admin" }),
		ok: [200],
	},
	"DELETE /api/v1/orgs/:id/members/:user_id": {
		auth: "user",
		path: async (u) => {
			const { orgId, member } = await orgWithMember(await u());
			return `/api/v1/orgs/${orgId}/members/${member}`;
		},
		ok: [200],
	},
	"POST /api/v1/invitations/accept": {
		auth: "user",
		body: async () => ({ code: "ORG-00000-00000-00000-00000" }),
		ok: [400],
	},
	"POST /api/v1/licenses/:id/activations/:activation_id/token": {
		auth: "user",
		path: async (u) => {
			const license = await ownedLicense(await u());
			const res = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
				json: { license_key: license.key, hardware_id: hardwareId() },
			});
			return `/api/v1/licenses/${license.id}/activations/${res.body.activation.id}/token`;
		},
		ok: [200],
	},
	"DELETE /api/v1/licenses/:id/activations/:activation_id": {
		auth: "user",
		path: async (u) => {
			const license = await ownedLicense(await u());
			const res = await call<{ activation: { id: string } }>("/api/v1/licenses/activate", {
				json: { license_key: license.key, hardware_id: hardwareId() },
			});
			return `/api/v1/licenses/${license.id}/activations/${res.body.activation.id}`;
		},
		ok: [204],
	},
	"GET /api/v1/admin/licenses": { auth: "admin", ok: [200] },
	"POST /api/v1/admin/licenses": {
		auth: "admin",
		body: async () => ({ plan: "starter", owner_email: randomEmail(), max_activations: 3 }),
		ok: [201],
	},
	"PATCH /api/v1/admin/licenses/:id": {
		auth: "admin",
		path: async () => `/api/v1/admin/licenses/${(await createLicense()).id}`,
		body: async () => ({ max_activations: 7, owner_email: randomEmail("edited") }),
		ok: [200],
	},
	"POST /api/v1/admin/licenses/:id/:action{suspend|reinstate|revoke}": {
		auth: "admin",
		path: async () => `/api/v1/admin/licenses/${(await createLicense()).id}/suspend`,
		ok: [200],
	},
	"POST /api/v1/admin/licenses/:id/offline-activations": offlineEntry(
		"admin",
		"/api/v1/admin/licenses",
		"activations",
	),
	"POST /api/v1/admin/licenses/:id/offline-deactivations": offlineEntry(
		"admin",
		"/api/v1/admin/licenses",
		"deactivations",
	),
	"POST /api/v1/admin/invites": { auth: "admin", body: async () => ({ count: 2 }), ok: [201] },
	"GET /api/v1/admin/invites": { auth: "admin", ok: [200] },
	"GET /api/v1/admin/invites/:id": {
		auth: "admin",
		path: async () => {
			const res = await call<{ batch_id: string }>("/api/v1/admin/invites", {
				json: { count: 1 },
				admin: true,
			});
			return `/api/v1/admin/invites/${res.body.batch_id}`;
		},
		ok: [200],
	},
	"GET /api/v1/admin/metrics": { auth: "admin", ok: [200] },
	"GET /api/v1/admin/metrics/daily": { auth: "admin", ok: [200] },
	"GET /api/v1/admin/audit": { auth: "admin", ok: [200] },
	"GET /api/v1/admin/users": { auth: "admin", ok: [200] },
	"GET /api/v1/admin/activations": { auth: "admin", ok: [200] },
	"GET /api/v1/admin/orgs": { auth: "admin", ok: [200] },
	"GET /admin": { auth: "none", ok: [200] },
	"GET /admin/console.css": { auth: "none", ok: [200] },
	"POST /admin/login": {
		auth: "none",
		form: async () => ({ token: inject("adminToken") }),
		ok: [303],
	},
	"POST /admin/logout": { auth: "console", form: async () => ({}), ok: [303] },
	"GET /admin/dashboard": { auth: "console", ok: [200] },
	"GET /admin/licenses": { auth: "console", ok: [200] },
	"GET /admin/licenses/:id": {
		auth: "console",
		path: async () => `/admin/licenses/${(await createLicense()).id}`,
		ok: [200],
	},
	"POST /admin/licenses/:id": {
		auth: "console",
		path: async () => `/admin/licenses/${(await createLicense()).id}`,
		form: async () => ({ max_activations: "4" }),
		ok: [303],
	},
	"POST /admin/licenses/:id/:action{suspend|reinstate|revoke}": {
		auth: "console",
		path: async () => `/admin/licenses/${(await createLicense()).id}/suspend`,
		form: async () => ({}),
		ok: [303],
	},
	"GET /admin/users": { auth: "console", ok: [200] },
	"GET /admin/orgs": { auth: "console", ok: [200] },
	"GET /admin/activations": { auth: "console", ok: [200] },
	"GET /admin/audit": { auth: "console", ok: [200] },
	"GET /admin/invites": { auth: "console", ok: [200] },
	"POST /admin/invites": {
		auth: "console",
		form: async () => ({ count: "2", label: "inventory" }),
		ok: [201],
	},
	"GET /admin/invites/:id": {
		auth: "console",
		path: async () => {
			const res = await call<{ batch_id: string }>("/api/v1/admin/invites", {
				json: { count: 1 },
				admin: true,
			});
			return `/admin/invites/${res.body.batch_id}`;
		},
		ok: [200],
	},
	"POST /api/v1/admin/webhooks": { auth: "admin", body: operatorHookBody, ok: [201] },
	"GET /api/v1/admin/webhooks": { auth: "admin", ok: [200] },
	"DELETE /api/v1/admin/webhooks/:wid": {
		auth: "admin",
		path: async () => `/api/v1/admin/webhooks/${await operatorHook()}`,
		ok: [204],
	},
	"POST /api/v1/admin/webhooks/:wid/rotate-secret": {
		auth: "admin",
		path: async () => `/api/v1/admin/webhooks/${await operatorHook()}/rotate-secret`,
		ok: [200],
	},
	"GET /api/v1/admin/webhooks/:wid/deliveries": {
		auth: "admin",
		path: async () => `/api/v1/admin/webhooks/${await operatorHook()}/deliveries`,
		ok: [200],
	},
	"GET /billing/success": { auth: "none", ok: [200] },
	"GET /billing/cancel": { auth: "none", ok: [200] },
	"POST /api/v1/billing/checkout": { auth: "user", body: checkoutBody, ok: [200] },
	"POST /billing/checkout": { auth: "user", body: checkoutBody, ok: [200] },
	// A user who never checked out has no Stripe customer: 404 is the documented answer.
	"POST /api/v1/billing/portal": { auth: "user", ok: [404] },
	"POST /billing/portal": { auth: "user", ok: [404] },
	"POST /webhooks/stripe": { auth: "stripe", ok: [200] },
	"POST /api/v1/orgs/:id/api-keys": {
		auth: "user",
		path: orgPath("/api-keys"),
		body: async () => ({ name: "github" }),
		ok: [201],
	},
	"GET /api/v1/orgs/:id/api-keys": { auth: "user", path: orgPath("/api-keys"), ok: [200] },
	"DELETE /api/v1/orgs/:id/api-keys/:key_id": {
		auth: "user",
		path: async (u) => {
			const user = await u();
			const base = `/api/v1/orgs/${(await ciOrgOf(user)).orgId}/api-keys`;
			const res = await call<{ api_key: { id: string } }>(base, {
				json: { name: "doomed" },
				headers: { authorization: `Bearer ${user.accessToken}` },
			});
			return `${base}/${res.body.api_key.id}`;
		},
		ok: [204],
	},
	"POST /api/v1/orgs/:id/ci-trust-rules": {
		auth: "user",
		path: orgPath("/ci-trust-rules"),
		body: ruleBody,
		ok: [201],
		objectFields: ["conditions"],
	},
	"GET /api/v1/orgs/:id/ci-trust-rules": {
		auth: "user",
		path: orgPath("/ci-trust-rules"),
		ok: [200],
	},
	"DELETE /api/v1/orgs/:id/ci-trust-rules/:rule_id": {
		auth: "user",
		path: async (u) => {
			const user = await u();
			const base = `/api/v1/orgs/${(await ciOrgOf(user)).orgId}/ci-trust-rules`;
			const res = await call<{ trust_rule: { id: string } }>(base, {
				json: await ruleBody(),
				headers: { authorization: `Bearer ${user.accessToken}` },
			});
			return `${base}/${res.body.trust_rule.id}`;
		},
		ok: [204],
	},
	"GET /api/v1/orgs/:id/sso": { auth: "user", path: orgPath("/sso"), ok: [200] },
	"PUT /api/v1/orgs/:id/sso": {
		auth: "user",
		path: orgPath("/sso"),
		body: ssoBody,
		ok: [200],
	},
	"DELETE /api/v1/orgs/:id/sso": {
		auth: "user",
		path: async (u) => {
			const user = await u();
			const base = `/api/v1/orgs/${(await ciOrgOf(user)).orgId}/sso`;
			const res = await call(base, {
				method: "PUT",
				json: await ssoBody(),
				headers: { authorization: `Bearer ${user.accessToken}` },
			});
			if (res.status !== 200) throw new Error(`sso failed: ${res.status} ${res.text}`);
			return base;
		},
		ok: [204],
	},
	"POST /api/v1/orgs/:id/sso/domains": {
		auth: "user",
		path: orgPath("/sso/domains"),
		body: async () => ({ domain: probeDomain() }),
		ok: [201],
	},
	// A domain never added: no DNS lookup (the inventory reaches no resolver), a 404.
	"POST /api/v1/orgs/:id/sso/domains/:domain/verify": {
		auth: "user",
		path: async (u) =>
			`/api/v1/orgs/${(await ciOrgOf(await u())).orgId}/sso/domains/${probeDomain()}/verify`,
		ok: [404],
	},
	"DELETE /api/v1/orgs/:id/sso/domains/:domain": {
		auth: "user",
		path: async (u) => {
			const user = await u();
			const base = `/api/v1/orgs/${(await ciOrgOf(user)).orgId}/sso/domains`;
			const domain = probeDomain();
			const res = await call(base, {
				json: { domain },
				headers: { authorization: `Bearer ${user.accessToken}` },
			});
			if (res.status !== 201) throw new Error(`domain failed: ${res.status} ${res.text}`);
			return `${base}/${domain}`;
		},
		ok: [204],
	},
	"POST /api/v1/orgs/:id/webhooks": {
		auth: "user",
		path: orgPath("/webhooks"),
		body: hookBody,
		ok: [201],
	},
	"GET /api/v1/orgs/:id/webhooks": { auth: "user", path: orgPath("/webhooks"), ok: [200] },
	"DELETE /api/v1/orgs/:id/webhooks/:wid": {
		auth: "user",
		path: async (u) => {
			const { base, wid } = await hookOf(await u());
			return `${base}/${wid}`;
		},
		ok: [204],
	},
	"POST /api/v1/orgs/:id/webhooks/:wid/rotate-secret": {
		auth: "user",
		path: async (u) => {
			const { base, wid } = await hookOf(await u());
			return `${base}/${wid}/rotate-secret`;
		},
		ok: [200],
	},
	"GET /api/v1/orgs/:id/webhooks/:wid/deliveries": {
		auth: "user",
		path: async (u) => {
			const { base, wid } = await hookOf(await u());
			return `${base}/${wid}/deliveries`;
		},
		ok: [200],
	},
	"POST /api/v1/ci/leases": {
		auth: "ci",
		body: async () => ({ job_id: crypto.randomUUID(), runner: "inventory" }),
		ok: [201],
	},
	"POST /api/v1/ci/leases/:id/heartbeat": {
		auth: "ci",
		path: async (u) => `/api/v1/ci/leases/${await leaseOf(u)}/heartbeat`,
		body: async () => ({ ttl_s: 120 }),
		ok: [200],
	},
	"DELETE /api/v1/ci/leases/:id": {
		auth: "ci",
		path: async (u) => `/api/v1/ci/leases/${await leaseOf(u)}`,
		ok: [204],
	},
};

// ---------------------------------------------------------------------------------------------
// Three ways to reach the app: the Worker as deployed, the Worker with its database down, and
// the app with a database whose every call throws an error full of SQL and a secret.

type Target = (req: Request) => Promise<Response>;
const ctx = {
	waitUntil: () => {},
	passThroughOnException: () => {},
	props: {},
} as unknown as ExecutionContext;
const live: Target = (req) => (exports as unknown as { default: Fetcher }).default.fetch(req);
const down = { connectionString: "postgres://postgres:postgres@127.0.0.1:9/postgres" };
const downEnv = {
	...(env as unknown as Record<string, unknown>),
	HYPERDRIVE: down,
	HYPERDRIVE_FRESH: down,
};
const databaseDown: Target = async (req) => worker.fetch(req, downEnv, ctx);

const SECRET_IN_ERROR = "hunter2-secret-from-the-driver";
function driverError(): Error {
	const err = new Error(
		`relation "users" does not exist: select password_hash from users where email = '${SECRET_IN_ERROR}'`,
	);
	Object.assign(err, { code: "42P01", query: "select * from users" });
	return err;
}
/** Any property is another exploding value; any call throws. `then` is absent: not a promise. */
function exploding<T>(): T {
	const handler: ProxyHandler<() => void> = {
		get: (_target, prop) => (prop === "then" ? undefined : new Proxy(() => {}, handler)),
		apply: () => {
			throw driverError();
		},
	};
	return new Proxy(() => {}, handler) as unknown as T;
}
let config: Config;
const brokenRuntime: Runtime = {
	resolve: async () => ({ config, db: exploding<Database>(), limiter: memoryRateLimiter() }),
	clientIp: (c) => c.req.header("cf-connecting-ip") ?? null,
	defer: () => {},
	passwords: exploding<PasswordHasher>(),
	docsBundle: async () => null,
};
const brokenApp = newApp(brokenRuntime);
const broken: Target = async (req) => brokenApp.fetch(req, env, ctx);

beforeAll(async () => {
	config = await buildConfig(SettingsSchema.parse(settingsFrom(env as unknown as Json)));
});
afterEach(() => {
	vi.restoreAllMocks();
});
afterAll(async () => {
	await operatorHookBody(); // the last probe's operator endpoint too
});

// ---------------------------------------------------------------------------------------------

interface Probe {
	method: string;
	path: string;
	headers: Record<string, string>;
	body?: string | ReadableStream<Uint8Array>;
}

async function send(probe: Probe, target: Target = live): Promise<Answer> {
	const headers = new Headers(probe.headers);
	if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomIp());
	return answerOf(
		await target(
			new Request(`http://license.test${probe.path}`, {
				method: probe.method,
				headers,
				body: probe.body ?? null,
				// The console answers its form posts and session-less pages with 303: see it.
				redirect: "manual",
			}),
		),
	);
}

async function credentials(entry: RouteEntry, user: Caller): Promise<Record<string, string>> {
	if (entry.auth === "user") return { authorization: `Bearer ${(await user()).accessToken}` };
	if (entry.auth === "admin") return { authorization: `Bearer ${inject("adminToken")}` };
	if (entry.auth === "ci") return { authorization: `Bearer ${(await ciOrgOf(await user())).key}` };
	if (entry.auth === "console") return { cookie: (await consoleCredentials()).cookie };
	return {};
}

/** One console session for the whole file (sign-ins are rate-limited and audited). */
let consoleMade: Promise<{ cookie: string; csrf: string }> | undefined;
function consoleCredentials(): Promise<{ cookie: string; csrf: string }> {
	consoleMade ??= consoleSession();
	return consoleMade;
}

/** A request the route accepts, with fresh state (user, license, address) every time. */
async function goodProbe(route: string, entry: RouteEntry): Promise<Probe & { json?: Json }> {
	const [method = "GET", pattern = "/"] = route.split(" ");
	let made: Promise<SessionUser> | undefined;
	const user: Caller = () => {
		made ??= sessionUser("inventory");
		return made;
	};
	const path = entry.path ? await entry.path(user) : pattern;
	const headers = { ...(await credentials(entry, user)), "user-agent": "security-suite/1.0" };
	if (entry.auth === "stripe") {
		const payload = JSON.stringify({
			id: `evt_${crypto.randomUUID().replace(/-/g, "")}`,
			object: "event",
			type: "security_suite.ping",
			created: Math.floor(Date.now() / 1000),
			data: { object: { id: "obj_security_suite" } },
		});
		return {
			method,
			path,
			headers: {
				...headers,
				"content-type": "application/json",
				"stripe-signature": await signedHeader(payload),
			},
			body: payload,
		};
	}
	if (entry.form) {
		const fields = await entry.form();
		if (entry.auth === "console") fields.csrf = (await consoleCredentials()).csrf;
		return {
			method,
			path,
			headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams(fields).toString(),
		};
	}
	if (!entry.body) {
		// Bodiless POSTs send no body, but clients still say what they would send.
		return method === "GET"
			? { method, path, headers }
			: { method, path, headers: { ...headers, "content-type": "application/json" } };
	}
	const json = await entry.body(user);
	return {
		method,
		path,
		headers: { ...headers, "content-type": "application/json" },
		body: JSON.stringify(json),
		json,
	};
}

function chunked(text: string): ReadableStream<Uint8Array> {
	const bytes = new TextEncoder().encode(text);
	let offset = 0;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			if (offset >= bytes.length) return controller.close();
			controller.enqueue(bytes.slice(offset, offset + 4096));
			offset += 4096;
		},
	});
}

const served = [
	...new Set(
		newApp(brokenRuntime)
			.routes.filter((r) => r.method !== "ALL")
			.map((r) => `${r.method} ${r.path}`),
	),
];

describe("the route inventory", () => {
	it("lists exactly the routes the app serves", () => {
		const missing = served.filter((r) => !(r in inventory));
		const stale = Object.keys(inventory).filter((r) => !served.includes(r));
		expect(missing, "routes the app serves with no entry in this file's inventory").toEqual([]);
		expect(stale, "inventory entries for routes the app no longer serves").toEqual([]);
	});
});

describe.each(served)("%s", (route) => {
	const entry = inventory[route];
	const [method = "GET"] = route.split(" ");
	if (!entry) {
		it("has an entry in the inventory", () => {
			expect.fail(`add "${route}" to the inventory in test/worker/security-routes.test.ts`);
		});
		return;
	}
	const takesBody = method !== "GET";
	const json = takesBody && entry.auth !== "stripe" && !entry.form;

	it("answers a well-formed request as documented, with the security headers", async () => {
		const probe = await goodProbe(route, entry);
		const res = await send(probe);
		expect(entry.ok, `${res.status} ${res.text}`).toContain(res.status);
		expectSafe(res, probe.path);
	});

	if (entry.auth === "console") {
		it("without a live session: a page redirects to sign-in, a form post is refused 403", async () => {
			const probe = await goodProbe(route, entry);
			const { cookie: _c, ...anonymous } = probe.headers;
			// Well-formed, but signed with another key (or long expired): both are no session.
			const forged = `coditect_admin=v1.9999999999.${"A".repeat(24)}.${"B".repeat(43)}`;
			for (const headers of [anonymous, { ...anonymous, cookie: forged }]) {
				const res = await send({ ...probe, headers });
				if (method === "GET") {
					expect(res.status, res.text).toBe(303);
					expect(res.headers.get("location")).toBe("/admin");
				} else {
					expectErrorBody(res, 403, "FORBIDDEN");
				}
				expectSecurityHeaders(res, probe.path);
			}
			if (method === "POST") {
				// The session's cookie without its CSRF token, and from another site: refused too.
				const noToken = await send({
					...probe,
					body: String(probe.body).replace(/(^|&)csrf=[^&]*/, ""),
				});
				expectErrorBody(noToken, 403, "FORBIDDEN");
				const crossSite = await send({
					...probe,
					headers: { ...probe.headers, origin: "https://evil.example" },
				});
				expectErrorBody(crossSite, 403, "FORBIDDEN");
			}
		});
	} else if (entry.auth !== "none") {
		it("refuses a missing or wrong credential, with one error body for both", async () => {
			const probe = await goodProbe(route, entry);
			const { authorization: _a, "stripe-signature": _s, ...anonymous } = probe.headers;
			const wrong =
				entry.auth === "stripe"
					? {
							...anonymous,
							"stripe-signature": await signedHeader(String(probe.body), { secret: "whsec_wrong" }),
						}
					: { ...anonymous, authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl" };
			const [status, code] =
				entry.auth === "stripe" ? [400, "INVALID_REQUEST"] : [401, "UNAUTHORIZED"];
			const none = await send({ ...probe, headers: anonymous });
			const forged = await send({ ...probe, headers: wrong });
			for (const res of [none, forged]) {
				expectErrorBody(res, status, code);
				expectSecurityHeaders(res, probe.path);
			}
			expect(withoutRequestId(none.text)).toBe(withoutRequestId(forged.text));
		});
	}

	it("answers a method it does not serve with 405 and an Allow header", async () => {
		const probe = await goodProbe(route, entry);
		// A method no route of this path serves (PATCH is served by the org member routes).
		const served = Object.keys(inventory)
			.filter((r) => r.split(" ")[1] === route.split(" ")[1])
			.map((r) => r.split(" ")[0]);
		const wrong = served.includes("PATCH") ? "PUT" : "PATCH";
		// Whatever body comes with it: the method is what is wrong.
		for (const [type, body] of [
			["application/json", undefined],
			["text/plain", "hello"],
			["application/json", JSON.stringify({ pad: "x".repeat(20_000) })],
		] as const) {
			const headers = { ...probe.headers, "content-type": type };
			const res = await send({ method: wrong, path: probe.path, headers, body });
			expectErrorBody(res, 405, "METHOD_NOT_ALLOWED");
			expect(res.headers.get("allow"), res.text).toContain(method);
			expectSecurityHeaders(res, probe.path);
		}
	});

	if (takesBody) {
		it("answers a body over its limit with 413, with and without Content-Length", async () => {
			const probe = await goodProbe(route, entry);
			// The webhook reads Stripe's raw bytes up to 256 KiB; every other route 16 KiB.
			const size = entry.auth === "stripe" ? 300 * 1024 : 17 * 1024;
			const big = JSON.stringify({ pad: "x".repeat(size) });
			for (const body of [big, chunked(big)]) {
				const res = await send({ ...probe, body });
				expectErrorBody(res, 413, "PAYLOAD_TOO_LARGE");
				expectSecurityHeaders(res, probe.path);
			}
		});
	}

	if (json) {
		it("answers a body that is not JSON with 415", async () => {
			const probe = await goodProbe(route, entry);
			for (const [type, body] of [
				["text/plain", probe.body ?? "{}"],
				["application/x-www-form-urlencoded", "a=b"],
				["multipart/form-data; boundary=x", "--x--"],
			] as const) {
				const res = await send({
					...probe,
					headers: { ...probe.headers, "content-type": type },
					body,
				});
				expectErrorBody(res, 415, "UNSUPPORTED_MEDIA_TYPE");
				expectSecurityHeaders(res, probe.path);
			}
		});

		it("answers malformed JSON and non-object JSON with 400 INVALID_REQUEST", async () => {
			const probe = await goodProbe(route, entry);
			for (const body of ['{"a": ', "[]", "null", "42", '"x"', "\u00ff"]) {
				const res = await send({ ...probe, body });
				expectErrorBody(res, 400, "INVALID_REQUEST");
				expectSecurityHeaders(res, probe.path);
			}
		});

		it("answers an unknown field with 400 naming it", async () => {
			const probe = await goodProbe(route, entry);
			const res = await send({ ...probe, body: JSON.stringify({ ...probe.json, is_admin: true }) });
			const body = expectErrorBody(res, 400, "INVALID_REQUEST");
			expect(body.error.fields, res.text).toContain("is_admin");
			expectSecurityHeaders(res, probe.path);
		});

		it("keeps __proto__ and constructor keys harmless", async () => {
			const probe = await goodProbe(route, entry);
			const rest = JSON.stringify(probe.json ?? {}).slice(1);
			for (const key of ["__proto__", "constructor"]) {
				const body = `{"${key}":{"polluted":true,"prototype":{"polluted":true}}${rest === "}" ? "" : ","}${rest}`;
				const res = await send({ ...probe, body });
				expectSafe(res, probe.path);
				expect(res.status, res.text).toBe(400);
			}
			expect(({} as Json).polluted).toBeUndefined();
			expect(Object.prototype).not.toHaveProperty("polluted");
		});

		if (entry.body) {
			it("answers over-long values and wrong types with 400 naming the field, never its value", async () => {
				const probe = await goodProbe(route, entry);
				const good = probe.json ?? {};
				for (const field of Object.keys(good)) {
					const value = good[field];
					const long = typeof value === "number" ? 10 ** 12 : `SECRET-${"A".repeat(5000)}`;
					const wrongType = entry.objectFields?.includes(field)
						? []
						: [{ nested: "SECRET-VALUE-123" }];
					for (const bad of [long, ...wrongType]) {
						const res = await send({ ...probe, body: JSON.stringify({ ...good, [field]: bad }) });
						const body = expectErrorBody(res, 400, "INVALID_REQUEST");
						expect(body.error.fields, res.text).toContain(field);
						expect(res.text).not.toContain("SECRET");
					}
				}
			});
		}
	}

	it("answers 503 SERVICE_UNAVAILABLE or its usual answer when the database is down", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => {});
		const probe = await goodProbe(route, entry);
		const started = Date.now();
		const res = await send(probe, databaseDown);
		expect(Date.now() - started, "a dead database must not hang the request").toBeLessThan(8000);
		expectSecurityHeaders(res, probe.path);
		if (res.status >= 500) {
			expectErrorBody(res, 503, "SERVICE_UNAVAILABLE");
			expect(res.text).not.toMatch(/127\.0\.0\.1|:9\b/);
		} else {
			expect(entry.ok, res.text).toContain(res.status);
		}
		logged.mockRestore();
	});

	it("turns an unexpected exception into a generic 500 with the headers and a request id", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => {});
		const probe = await goodProbe(route, entry);
		const res = await send(probe, broken);
		expectSecurityHeaders(res, probe.path);
		expect(res.text).not.toContain(SECRET_IN_ERROR);
		expectNoLeak(res);
		if (res.status >= 500) {
			const body = expectErrorBody(res);
			// healthz answers its own 503 for any database failure; everything else is a bug: 500.
			const expected =
				route === "GET /healthz"
					? { code: "SERVICE_UNAVAILABLE", status: 503 }
					: { code: "INTERNAL_ERROR", status: 500 };
			expect({ code: body.error.code, status: res.status }, res.text).toEqual(expected);
			if (expected.status === 500) {
				expect(body.error.message).toBe("Something went wrong on our side.");
				// The operator's log has the detail, under the same request id.
				expect(String(logged.mock.calls.at(-1)?.[0])).toContain(body.error.request_id);
			}
		} else {
			expect(entry.ok, res.text).toContain(res.status);
		}
		logged.mockRestore();
	});
});

describe("paths and methods no route serves", () => {
	it("answer 404 NOT_FOUND in the error shape, with the headers, whatever the method", async () => {
		for (const [method, path] of [
			["GET", "/nope"],
			["POST", "/api/v1/licenses/nope"],
			["DELETE", "/api/v1/nope/../../etc/passwd"],
			["GET", "/%2e%2e/%2e%2e/etc/passwd"],
			["OPTIONS", "/api/v1/unknown"],
		] as const) {
			const res = await send({ method, path, headers: {} });
			expectErrorBody(res, 404, "NOT_FOUND");
			expectSecurityHeaders(res, path);
		}
	});

	it("answer HEAD and OPTIONS on a served path with no 5xx and the headers", async () => {
		for (const method of ["HEAD", "OPTIONS"]) {
			const res = await send({ method, path: "/healthz", headers: {} });
			expect(res.status).toBeLessThan(500);
			expectSecurityHeaders(res, "/healthz");
		}
	});
});
