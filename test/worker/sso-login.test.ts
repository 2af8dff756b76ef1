/** Signing in through an org's own OpenID provider, through the Worker on the run's Postgres:
 * start → the provider (oauth2-mock-server, approving as login_hint names) → callback, onto a
 * free seat; refusals for no seat, unverified and foreign domains; the password switch. */
import { describe, expect, inject, it } from "vitest";
import { sql } from "../support/database";
import { b64url, pkce } from "../support/pkce";
import {
	bearer,
	call,
	createLicense,
	newUser,
	randomEmail,
	randomIp,
	type Session,
} from "../support/worker-client";

type Json = Record<string, unknown>;
const REDIRECT = "http://127.0.0.1:49153/callback/sso";

const uid = () => crypto.randomUUID().slice(0, 8);

const publish = (name: string, txt: string[]) =>
	fetch(`${inject("oauthIssuer")}/_test/dns`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ name, txt }),
	});

/**
 * An SMB org whose admin connected the mock provider and claimed `domain` (verified unless
 * told otherwise), with `seats` seats (the owner holds one).
 */
async function ssoOrg(opts: { seats?: number; verify?: boolean; passwordOff?: boolean } = {}) {
	const owner = await newUser();
	const auth = bearer(owner.session.access_token);
	const org = await call<{ id: string }>("/api/v1/orgs", { json: { name: "Acme" }, headers: auth });
	const { id: licenseId } = await createLicense({ plan: "smb" });
	await sql("update licenses set org_id = $1, seats = $2 where id = $3", [
		org.body.id,
		opts.seats ?? 25,
		licenseId,
	]);
	const orgId = org.body.id;
	const put = await call(`/api/v1/orgs/${orgId}/sso`, {
		method: "PUT",
		json: {
			issuer: inject("oauthIssuer"),
			client_id: `acme-${uid()}`,
			client_secret: "acme-client-secret",
			password_login_disabled: opts.passwordOff ?? false,
		},
		headers: auth,
	});
	if (put.status !== 200) throw new Error(`sso: ${put.status} ${put.text}`);
	const domain = `acme-${uid()}.example`;
	const added = await call<{ verification: { name: string; value: string } }>(
		`/api/v1/orgs/${orgId}/sso/domains`,
		{ json: { domain }, headers: auth },
	);
	if (opts.verify !== false) {
		await publish(added.body.verification.name, [added.body.verification.value]);
		const v = await call(`/api/v1/orgs/${orgId}/sso/domains/${domain}/verify`, {
			json: {},
			headers: auth,
		});
		if (v.status !== 200) throw new Error(`verify: ${v.status} ${v.text}`);
	}
	return { orgId, domain, auth, owner };
}

interface Started {
	authorization_url: string;
	state: string;
	expires_in: number;
	org: { id: string; name: string };
	error?: Json;
}

const start = (body: Json) =>
	call<Started>("/api/v1/auth/sso/start", { json: body, ip: randomIp() });

/** The browser's part: the mock signs in `who` and redirects to the loopback with code + state. */
async function approve(
	authorizationUrl: string,
	who: { sub: string; email: string; verified?: boolean },
): Promise<{ code: string; state: string }> {
	const url = new URL(authorizationUrl);
	url.searchParams.set("login_hint", `${who.sub}|${who.email}|${who.verified === false ? 0 : 1}`);
	const res = await fetch(url, { redirect: "manual" });
	const location = new URL(res.headers.get("location") ?? "");
	expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
	return {
		code: location.searchParams.get("code") ?? "",
		state: location.searchParams.get("state") ?? "",
	};
}

type LoginBody = Session & {
	org: { id: string; name: string; role: string };
	seat_id: string;
	joined: boolean;
	licenses: Json[];
	error?: Json;
};

/** The whole flow as the CLI drives it; `override` changes what the callback is sent. */
async function ssoSignIn(
	begin: Json,
	who: { sub: string; email: string; verified?: boolean },
	override: Json = {},
) {
	const { verifier, challenge } = await pkce();
	const started = await start({ ...begin, redirect_uri: REDIRECT, code_challenge: challenge });
	expect(started.status, started.text).toBe(200);
	const { code, state } = await approve(started.body.authorization_url, who);
	expect(state).toBe(started.body.state);
	return call<LoginBody>("/api/v1/auth/sso/callback", {
		json: { state, code, code_verifier: verifier, redirect_uri: REDIRECT, ...override },
		ip: randomIp(),
	});
}

const sub = () => String(Math.floor(Math.random() * 1e9));

/** Google sign-in through the same mock (the Worker's GOOGLE_ISSUER), as test/worker/oauth.test.ts. */
async function googleSignIn(email: string) {
	const { verifier, challenge } = await pkce();
	const redirectUri = "http://127.0.0.1:49152/callback/google";
	const url = new URL(`${inject("oauthIssuer")}/authorize`);
	for (const [k, v] of Object.entries({
		response_type: "code",
		client_id: "google-test-client",
		redirect_uri: redirectUri,
		scope: "openid email",
		state: "s",
		login_hint: `${sub()}|${email}|1`,
		code_challenge: challenge,
		code_challenge_method: "S256",
	}))
		url.searchParams.set(k, v);
	const res = await fetch(url, { redirect: "manual" });
	const code = new URL(res.headers.get("location") ?? "").searchParams.get("code") ?? "";
	return call<{ error: Json }>("/api/v1/auth/oauth/callback", {
		json: { provider: "google", code, code_verifier: verifier, redirect_uri: redirectUri },
		ip: randomIp(),
	});
}

describe("SSO login", () => {
	it("puts a new address of a verified domain on a free seat, once, with a working session", async () => {
		const { orgId, domain, auth } = await ssoOrg();
		const email = `ann-${uid()}@${domain}`;
		const hook = await call<{ endpoint: { id: string } }>(`/api/v1/orgs/${orgId}/webhooks`, {
			json: { url: `https://hooks.example.com/${uid()}`, events: ["seat.assigned"] },
			headers: auth,
		});
		expect(hook.status, hook.text).toBe(201);
		const started = await start({
			email: email.toUpperCase(),
			redirect_uri: REDIRECT,
			code_challenge: "c".repeat(43),
		});
		expect(started.status, started.text).toBe(200);
		expect(started.body.org).toEqual({ id: orgId, name: "Acme" });
		expect(started.body.expires_in).toBe(600);
		const url = new URL(started.body.authorization_url);
		expect(`${url.origin}${url.pathname}`).toBe(`${inject("oauthIssuer")}/authorize`);
		expect(url.searchParams.get("redirect_uri")).toBe(REDIRECT);
		expect(url.searchParams.get("code_challenge_method")).toBe("S256");
		expect(url.searchParams.get("scope")).toBe("openid email");
		expect(url.searchParams.get("nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(url.searchParams.get("state")).toBe(started.body.state);

		const who = { sub: sub(), email };
		const first = await ssoSignIn({ email }, who);
		expect(first.status, first.text).toBe(200);
		expect(first.body.user.email).toBe(email);
		expect(first.body.org).toMatchObject({ id: orgId, name: "Acme", role: "member" });
		expect(first.body.joined).toBe(true);
		expect(first.body.seat_id).toMatch(/^seat_/);
		const me = await call<{ user: { email: string } }>("/api/v1/me", {
			headers: bearer(first.body.access_token),
		});
		expect(me.status).toBe(200);
		expect(me.body.user.email).toBe(email);
		const dash = await call<{ members: Array<{ email: string }> }>(`/api/v1/orgs/${orgId}`, {
			headers: bearer(first.body.access_token),
		});
		expect(dash.status, dash.text).toBe(200);
		expect(dash.body.members.map((m) => m.email)).toContain(email);

		// Again, by org id: the same seat, no second one.
		const again = await ssoSignIn({ org: orgId }, who);
		expect(again.status, again.text).toBe(200);
		expect(again.body.joined).toBe(false);
		expect(again.body.seat_id).toBe(first.body.seat_id);
		const seats = await sql<{ n: number }>(
			"select count(*)::int as n from org_members where org_id = $1",
			[orgId],
		);
		expect(seats[0]?.n).toBe(2);

		// One transaction stamps one time: compared as a set.
		const audit = await sql<{ action: string; result: string; detail: Json }>(
			"select action, result, detail from audit_logs where user_id = $1",
			[first.body.user.id],
		);
		expect(audit.map((a) => `${a.action}:${a.result}`).sort()).toEqual([
			"login:success",
			"login:success",
			"org_join:success",
			"signup:sso",
		]);
		expect(audit.find((a) => a.action === "org_join")?.detail).toMatchObject({
			org_id: orgId,
			seat_id: first.body.seat_id,
			via: "sso",
		});
		// The org's subscribers hear of the seat once, as of an invitation's.
		const queued = await sql<{ payload: string }>(
			"select payload::text from webhook_outbox where endpoint_id = $1 and event_type = 'seat.assigned'",
			[hook.body.endpoint.id],
		);
		expect(queued.map((q) => (JSON.parse(q.payload) as { data: Json }).data)).toEqual([
			expect.objectContaining({
				seat_id: first.body.seat_id,
				user_id: first.body.user.id,
				via: "sso",
			}),
		]);
	});

	it("refuses with SEAT_LIMIT_REACHED when no seat is free, and makes no account", async () => {
		const { orgId, domain } = await ssoOrg({ seats: 1 });
		const email = `bob-${uid()}@${domain}`;
		const res = await ssoSignIn({ email }, { sub: sub(), email });
		expect(res.status, res.text).toBe(403);
		expect(res.body.error).toMatchObject({ code: "SEAT_LIMIT_REACHED", seats: 1, used: 1 });
		expect(String(res.body.error?.message)).toMatch(/Every seat of Acme is taken \(1 of 1\)/);
		expect(await sql("select id from users where email = $1", [email])).toEqual([]);
		const audit = await sql<{ result: string; detail: Json }>(
			"select result, detail from audit_logs where action = 'org_join' and detail->>'org_id' = $1",
			[orgId],
		);
		expect(audit).toEqual([
			{ result: "SEAT_LIMIT_REACHED", detail: { org_id: orgId, via: "sso", seats: 1, used: 1 } },
		]);
	});

	it("routes nothing for an unverified domain: the same 404 as an unknown one", async () => {
		const { orgId, domain } = await ssoOrg({ verify: false });
		const body = (b: Json) => ({ ...b, redirect_uri: REDIRECT, code_challenge: "c".repeat(43) });
		const unverified = await start(body({ email: `x@${domain}` }));
		const unknown = await start(body({ email: randomEmail() }));
		const byOrg = await start(body({ org: orgId }));
		const noOrg = await start(body({ org: "org_doesnotexist" }));
		for (const res of [unverified, unknown, byOrg, noOrg]) {
			expect(res.status, res.text).toBe(404);
			expect(res.body.error?.code).toBe("NOT_FOUND");
			expect(res.body.error?.message).toBe(unknown.body.error?.message);
		}
	});

	it("refuses an address outside the org's verified domains (another org's) and an unverified email", async () => {
		const a = await ssoOrg();
		const b = await ssoOrg();
		// Org A's provider vouches for an address of org B's domain.
		const foreign = `eve-${uid()}@${b.domain}`;
		const res = await ssoSignIn({ org: a.orgId }, { sub: sub(), email: foreign });
		expect(res.status, res.text).toBe(403);
		expect(res.body.error?.code).toBe("FORBIDDEN");
		expect(String(res.body.error?.message)).toContain("not in a domain Acme has verified");
		expect(await sql("select id from users where email = $1", [foreign])).toEqual([]);

		const unverified = `carl-${uid()}@${a.domain}`;
		const res2 = await ssoSignIn(
			{ email: unverified },
			{ sub: sub(), email: unverified, verified: false },
		);
		expect(res2.status, res2.text).toBe(403);
		expect(String(res2.body.error?.message)).toContain("email_verified");

		const refusals = await sql<{ result: string }>(
			"select result from audit_logs where action = 'failed_login' and detail->>'sso_org_id' = $1 order by at, id",
			[a.orgId],
		);
		expect(refusals.map((r) => r.result)).toEqual([
			"sso_domain_not_verified",
			"sso_email_unverified",
		]);
	});

	it("with password login off, refuses password login, signup and verify for the domain alike", async () => {
		const org = await ssoOrg();
		const email = `dana-${uid()}@${org.domain}`;
		const member = await newUser(email);
		const put = await call(`/api/v1/orgs/${org.orgId}/sso`, {
			method: "PUT",
			json: { issuer: inject("oauthIssuer"), client_id: "acme-off", password_login_disabled: true },
			headers: org.auth,
		});
		expect(put.status, put.text).toBe(200);

		const login = (e: string) =>
			call<{ error: Json }>("/api/v1/auth/login", {
				json: { email: e, password: member.password },
				ip: randomIp(),
			});
		const known = await login(email);
		const unknown = await login(`nobody-${uid()}@${org.domain.toUpperCase()}`);
		expect(known.status, known.text).toBe(403);
		expect(known.body.error.code).toBe("SSO_REQUIRED");
		expect(known.body.error.message).toContain(`coditect login --sso ${email}`);
		expect(known.body.error.domain).toBe(org.domain);
		// Account or not, the same answer (only the echoed address differs).
		expect(unknown.status).toBe(403);
		expect(unknown.body.error.code).toBe("SSO_REQUIRED");
		const seed = await call<{ error: Json }>("/auth/login", {
			json: { email, password: member.password },
			ip: randomIp(),
		});
		expect(seed.body.error.code).toBe("SSO_REQUIRED");
		const signup = await call<{ error: Json }>("/api/v1/auth/signup", {
			json: { email: `new-${uid()}@${org.domain}`, password: "a long enough password" },
			ip: randomIp(),
		});
		expect(signup.status, signup.text).toBe(403);
		expect(signup.body.error.code).toBe("SSO_REQUIRED");
		const verify = await call<{ error: Json }>("/api/v1/auth/verify", {
			json: { email, code: "123456" },
			ip: randomIp(),
		});
		expect(verify.body.error.code).toBe("SSO_REQUIRED");
		// No failure was counted toward a lockout.
		const [row] = await sql<{ failed_logins: number }>(
			"select failed_logins from users where email = $1",
			[email],
		);
		expect(row?.failed_logins).toBe(0);

		// SSO signs the existing account in (same user) onto a seat.
		const sso = await ssoSignIn({ email }, { sub: sub(), email });
		expect(sso.status, sso.text).toBe(200);
		expect(sso.body.user.id).toBe(member.session.user.id);
		expect(sso.body.joined).toBe(true);

		// Google or GitHub would bypass the org's provider just the same: refused, audited.
		const google = await googleSignIn(email);
		expect(google.status, google.text).toBe(403);
		expect(google.body.error.code).toBe("SSO_REQUIRED");
		const refused = await sql<{ detail: Json }>(
			"select detail from audit_logs where action = 'failed_login' and result = 'sso_required' and detail->>'provider' = 'google' order by at desc limit 1",
		);
		expect(refused[0]?.detail).toMatchObject({ provider: "google" });

		// Other domains log in with passwords as before.
		const other = await newUser();
		const fine = await call("/api/v1/auth/login", {
			json: { email: other.email, password: other.password },
			ip: randomIp(),
		});
		expect(fine.status).toBe(200);
	});

	it("answers bad input with the documented 4xx, never 5xx", async () => {
		const { orgId, domain } = await ssoOrg();
		const good = { org: orgId, redirect_uri: REDIRECT, code_challenge: "c".repeat(43) };
		const cases: Array<[Json, string[]]> = [
			[{ ...good, email: `a@${domain}` }, ["email", "org"]],
			[{ redirect_uri: REDIRECT, code_challenge: "c".repeat(43) }, ["email", "org"]],
			[{ ...good, redirect_uri: "http://127.0.0.1:5/callback/google" }, ["redirect_uri"]],
			[{ ...good, redirect_uri: "http://evil.example/callback/sso" }, ["redirect_uri"]],
			[{ ...good, code_challenge: "short" }, ["code_challenge"]],
			[{ ...good, extra: 1 }, ["extra"]],
			[{ ...good, org: 5 }, ["org"]],
			[{ ...good, org: "o".repeat(65) }, ["org"]],
		];
		for (const [body, fields] of cases) {
			const res = await start(body);
			expect(res.status, JSON.stringify(body)).toBe(400);
			expect(res.body.error?.fields).toEqual(fields);
		}
		const raw = await call("/api/v1/auth/sso/start", {
			body: "{not json",
			headers: { "content-type": "application/json" },
			ip: randomIp(),
		});
		expect(raw.status).toBe(400);
		const form = await call("/api/v1/auth/sso/callback", {
			body: "a=b",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			ip: randomIp(),
		});
		expect(form.status).toBe(415);

		const email = `fay-${uid()}@${domain}`;
		const who = { sub: sub(), email };
		// A state this server never sealed, or one edited.
		const forged = await ssoSignIn({ org: orgId }, who, { state: "e30.00" });
		expect(forged.status, forged.text).toBe(400);
		expect(forged.body.error?.code).toBe("INVALID_CODE");
		const { verifier, challenge } = await pkce();
		const started = await start({ ...good, code_challenge: challenge });
		const [payload, tag] = started.body.state.split(".");
		const edited = JSON.parse(atob((payload ?? "").replace(/-/g, "+").replace(/_/g, "/")));
		const tampered = `${b64url(new TextEncoder().encode(JSON.stringify({ ...edited, o: "org_x" })))}.${tag}`;
		const res = await call<{ error: Json }>("/api/v1/auth/sso/callback", {
			json: { state: tampered, code: "c", code_verifier: verifier, redirect_uri: REDIRECT },
			ip: randomIp(),
		});
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe("INVALID_CODE");
		// A code the provider never issued, with a genuine state and verifier.
		const { verifier: v2, challenge: c2 } = await pkce();
		const genuine = await start({ ...good, code_challenge: c2 });
		const badCode = await call<{ error: Json }>("/api/v1/auth/sso/callback", {
			json: {
				state: genuine.body.state,
				code: "a-code-the-provider-never-issued",
				code_verifier: v2,
				redirect_uri: REDIRECT,
			},
			ip: randomIp(),
		});
		expect(badCode.status, badCode.text).toBe(400);
		expect(badCode.body.error.code).toBe("INVALID_CODE");
		// The verifier must match the challenge the sign-in started with.
		const wrongVerifier = await ssoSignIn({ org: orgId }, who, {
			code_verifier: b64url(crypto.getRandomValues(new Uint8Array(32))),
		});
		expect(wrongVerifier.status).toBe(400);
		expect(wrongVerifier.body.error?.code).toBe("INVALID_CODE");
		const otherRedirect = await ssoSignIn({ org: orgId }, who, {
			redirect_uri: "http://127.0.0.1:49154/callback/sso",
		});
		expect(otherRedirect.status).toBe(400);
		expect(otherRedirect.body.error?.fields).toEqual(["redirect_uri"]);
		const unknownField = await call("/api/v1/auth/sso/callback", {
			json: { state: "s", code: "c", code_verifier: verifier, redirect_uri: REDIRECT, org: orgId },
			ip: randomIp(),
		});
		expect(unknownField.status).toBe(400);
		// Nothing of this made an account.
		expect(await sql("select id from users where email = $1", [email])).toEqual([]);
	});
});
