import { describe, expect, inject, it } from "vitest";
import { sql } from "../support/database";
import { pkce } from "../support/pkce";
import {
	bearer,
	call,
	mintInvite,
	newUser,
	randomEmail,
	randomIp,
	type Session,
} from "../support/worker-client";

type Json = Record<string, unknown>;
type Provider = "google" | "github";

/**
 * The browser half of the flow, as the CLI drives it: authorize at the provider (the mock
 * approves at once, as the user named by login_hint) and catch the code on the redirect.
 */
async function authorize(
	redirectUri: string,
	who: { sub: string; email: string; verified?: boolean },
	challenge: { value: string; method: "S256" | "plain" } | null,
): Promise<string> {
	const url = new URL(`${inject("oauthIssuer")}/authorize`);
	url.searchParams.set("response_type", "code");
	url.searchParams.set("client_id", "client");
	url.searchParams.set("redirect_uri", redirectUri);
	url.searchParams.set("scope", "openid email");
	url.searchParams.set("state", "s");
	url.searchParams.set("login_hint", `${who.sub}|${who.email}|${who.verified === false ? 0 : 1}`);
	if (challenge) {
		url.searchParams.set("code_challenge", challenge.value);
		url.searchParams.set("code_challenge_method", challenge.method);
	}
	const res = await fetch(url, { redirect: "manual" });
	const location = res.headers.get("location");
	const code = location ? new URL(location).searchParams.get("code") : null;
	if (!code) throw new Error(`no code from the mock: ${res.status} ${await res.text()}`);
	return code;
}

const redirect = (provider: Provider, host = "127.0.0.1:49152") =>
	`http://${host}/callback/${provider}`;

async function signIn(
	provider: Provider,
	who: { sub: string; email: string; verified?: boolean },
	opts: { redirectUri?: string; postAs?: Provider; invite?: string | null } = {},
) {
	const { verifier, challenge } = await pkce();
	const redirectUri = opts.redirectUri ?? redirect(provider);
	const code = await authorize(redirectUri, who, { value: challenge, method: "S256" });
	// The test Worker runs invite-only (ENABLE_PILOT_SIGNUP=false): a new account needs an invite.
	const invite = opts.invite === undefined ? await mintInvite() : opts.invite;
	return call<Session & { licenses: Json[]; error?: Json }>("/api/v1/auth/oauth/callback", {
		json: {
			provider: opts.postAs ?? provider,
			code,
			code_verifier: verifier,
			redirect_uri: redirectUri,
			...(invite === null ? {} : { invite_code: invite }),
		},
		ip: randomIp(),
	});
}

async function inviteUsedBy(code: string): Promise<string | null | undefined> {
	const canonical = code.toUpperCase().replace(/[\s-]/g, "");
	const digest = await crypto.subtle.digest(
		"SHA-256",
		new TextEncoder().encode(`invite\u0000${canonical}`),
	);
	const hash = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
	const [row] = await sql<{ used_by: string | null }>(
		"select used_by from invites where code_hash = $1",
		[hash],
	);
	return row?.used_by;
}

const sub = () => String(Math.floor(Math.random() * 1e9));

describe("OAuth sign-in", () => {
	it("lists both configured providers with their authorization endpoints and S256", async () => {
		const res = await call<{ providers: Json[] }>("/api/v1/auth/oauth/providers");
		expect(res.status, res.text).toBe(200);
		expect(res.body.providers).toEqual([
			{
				name: "google",
				authorization_endpoint: `${inject("oauthIssuer")}/authorize`,
				client_id: "google-test-client",
				scopes: ["openid", "email"],
				code_challenge_method: "S256",
				redirect_path: "/callback/google",
			},
			{
				name: "github",
				authorization_endpoint: `${inject("oauthIssuer")}/authorize`,
				client_id: "github-test-client",
				scopes: ["read:user", "user:email"],
				code_challenge_method: "S256",
				redirect_path: "/callback/github",
			},
		]);
	});

	for (const provider of ["google", "github"] as const) {
		it(`creates an account through ${provider}, stores the provider id, and signs the same user in again`, async () => {
			const who = { sub: sub(), email: randomEmail(provider) };
			const first = await signIn(provider, who);
			expect(first.status, first.text).toBe(200);
			expect(first.body).toMatchObject({
				token_type: "Bearer",
				user: { email: who.email },
				licenses: [],
			});
			const [row] = await sql<{
				oauth_provider: string;
				oauth_provider_id: string;
				verified: boolean;
			}>(
				"select oauth_provider, oauth_provider_id, email_verified_at is not null as verified from users where id = $1",
				[first.body.user.id],
			);
			expect(row).toEqual({ oauth_provider: provider, oauth_provider_id: who.sub, verified: true });

			// Same provider id, even with a changed email at the provider: same account.
			const again = await signIn(provider, { sub: who.sub, email: randomEmail("changed") });
			expect(again.status, again.text).toBe(200);
			expect(again.body.user.id).toBe(first.body.user.id);
			const me = await call("/api/v1/me", { headers: bearer(again.body.access_token) });
			expect(me.status).toBe(200);
		});
	}

	it("links to an existing password account by verified email and returns its licenses", async () => {
		const { email, session } = await newUser();
		const grant = await call<{ license: { id: string } }>("/api/v1/admin/licenses", {
			json: { plan: "starter", owner_email: email },
			admin: true,
		});
		const res = await signIn("github", { sub: sub(), email: email.toUpperCase() });
		expect(res.status, res.text).toBe(200);
		expect(res.body.user.id).toBe(session.user.id);
		expect(res.body.licenses.map((l) => l.id)).toContain(grant.body.license.id);
	});

	it("never links or creates by an email the provider has not verified", async () => {
		const { email } = await newUser();
		const res = await signIn("google", { sub: sub(), email, verified: false });
		expect(res.status, res.text).toBe(403);
		const fresh = await signIn("github", { sub: sub(), email: randomEmail(), verified: false });
		expect(fresh.status, fresh.text).toBe(403);
	});

	it("refuses a code presented for the other provider (mix-up defence)", async () => {
		const { verifier, challenge } = await pkce();
		const code = await authorize(
			redirect("github"),
			{ sub: sub(), email: randomEmail() },
			{
				value: challenge,
				method: "S256",
			},
		);
		const res = await call<{ error: { code: string; fields?: string[] } }>(
			"/api/v1/auth/oauth/callback",
			{
				json: {
					provider: "google",
					code,
					code_verifier: verifier,
					redirect_uri: redirect("github"),
				},
				ip: randomIp(),
			},
		);
		expect(res.status, res.text).toBe(400);
		expect(res.body.error.fields).toEqual(["redirect_uri"]);
	});

	it("accepts any port on the loopback addresses, and only exact loopback redirect URIs", async () => {
		expect(
			(
				await signIn(
					"google",
					{ sub: sub(), email: randomEmail() },
					{ redirectUri: redirect("google", "127.0.0.1:8") },
				)
			).status,
		).toBe(200);
		expect(
			(
				await signIn(
					"google",
					{ sub: sub(), email: randomEmail() },
					{ redirectUri: redirect("google", "[::1]:61000") },
				)
			).status,
		).toBe(200);
		const bad = [
			"http://localhost:5000/callback/google",
			"https://127.0.0.1:5000/callback/google",
			"http://127.0.0.1:5000/callback/google/",
			"http://127.0.0.1:5000/callback/google?x=1",
			"http://127.0.0.1:5000/callback/./google",
			"http://user@127.0.0.1:5000/callback/google",
			"http://127.0.0.2:5000/callback/google",
			"http://evil.test/callback/google",
		];
		const { verifier } = await pkce();
		for (const redirect_uri of bad) {
			const res = await call("/api/v1/auth/oauth/callback", {
				json: { provider: "google", code: "irrelevant", code_verifier: verifier, redirect_uri },
				ip: randomIp(),
			});
			expect(res.status, `${redirect_uri}: ${res.text}`).toBe(400);
		}
	});

	it("fails a wrong PKCE verifier, a missing challenge, and a reused code with 400 INVALID_CODE", async () => {
		const uri = redirect("google");
		const who = { sub: sub(), email: randomEmail() };
		const { challenge } = await pkce();
		const other = await pkce();
		const invite = await mintInvite();
		const post = (code: string, verifier: string) =>
			call<{ error: { code: string } }>("/api/v1/auth/oauth/callback", {
				json: {
					provider: "google",
					code,
					code_verifier: verifier,
					redirect_uri: uri,
					invite_code: invite,
				},
				ip: randomIp(),
			});

		const wrongVerifier = await post(
			await authorize(uri, who, { value: challenge, method: "S256" }),
			other.verifier,
		);
		expect(wrongVerifier.status, wrongVerifier.text).toBe(400);
		expect(wrongVerifier.body.error.code).toBe("INVALID_CODE");

		// Authorized with no challenge at all: the provider refuses the verifier we always send.
		const noChallenge = await post(await authorize(uri, who, null), other.verifier);
		expect(noChallenge.status, noChallenge.text).toBe(400);

		const good = await pkce();
		const code = await authorize(uri, who, { value: good.challenge, method: "S256" });
		expect((await post(code, good.verifier)).status).toBe(200);
		expect((await post(code, good.verifier)).status).toBe(400);
	});

	it("refuses a new account without a usable invite while signup is invite-only (403 INVITE_REQUIRED) and creates nothing", async () => {
		for (const invite of [null, "INV-0000-0000-0000-0000"]) {
			const who = { sub: sub(), email: randomEmail("gate") };
			const res = await signIn("github", who, { invite });
			expect(res.status, res.text).toBe(403);
			expect(res.body.error).toMatchObject({ code: "INVITE_REQUIRED" });
			expect(String(res.body.error?.message)).toContain("--invite");
			const rows = await sql("select id from users where email = $1", [who.email]);
			expect(rows).toEqual([]);
			const links = await sql("select 1 from oauth_accounts where provider_id = $1", [who.sub]);
			expect(links).toEqual([]);
		}
	});

	it("consumes an invite exactly once: it creates one account, and a second new account with it is refused", async () => {
		const invite = await mintInvite();
		const first = await signIn("google", { sub: sub(), email: randomEmail("inv") }, { invite });
		expect(first.status, first.text).toBe(200);
		expect(await inviteUsedBy(invite)).toBe(first.body.user.id);
		const second = await signIn("github", { sub: sub(), email: randomEmail("inv") }, { invite });
		expect(second.status, second.text).toBe(403);
		expect(second.body.error).toMatchObject({ code: "INVITE_REQUIRED" });
		// The password signup door applies the same rule to the same invite.
		const signup = await call<{ error: { code: string } }>("/api/v1/auth/signup", {
			json: { email: randomEmail(), password: "a fine password", invite_code: invite },
			ip: randomIp(),
		});
		expect(signup.status, signup.text).toBe(403);
	});

	it("links an existing verified account and signs a linked one in without an invite, leaving a sent invite unused", async () => {
		const { email, session } = await newUser();
		const invite = await mintInvite();
		const who = { sub: sub(), email };
		const linked = await signIn("github", who, { invite });
		expect(linked.status, linked.text).toBe(200);
		expect(linked.body.user.id).toBe(session.user.id);
		expect(await inviteUsedBy(invite)).toBeNull();
		const again = await signIn("github", who, { invite: null });
		expect(again.status, again.text).toBe(200);
		expect(again.body.user.id).toBe(session.user.id);
	});

	it("rejects malformed callback bodies: unknown provider, short verifier, unknown fields", async () => {
		const base = {
			provider: "google",
			code: "c",
			code_verifier: "v".repeat(43),
			redirect_uri: redirect("google"),
		};
		for (const [json, field] of [
			[{ ...base, provider: "gitlab" }, "provider"],
			[{ ...base, code_verifier: "short" }, "code_verifier"],
			[{ ...base, code_challenge_method: "plain" }, "code_challenge_method"],
			[{ ...base, invite_code: "" }, "invite_code"],
			[{ ...base, invite_code: "x".repeat(65) }, "invite_code"],
		] as const) {
			const res = await call<{ error: { fields: string[] } }>("/api/v1/auth/oauth/callback", {
				json,
				ip: randomIp(),
			});
			expect(res.status, res.text).toBe(400);
			expect(res.body.error.fields).toContain(field);
		}
	});
});
