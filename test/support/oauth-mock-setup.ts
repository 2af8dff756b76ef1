/**
 * Once per test run, on Node: `oauth2-mock-server` as the identity provider for both Google
 * (OpenID discovery, token endpoint with PKCE, ID tokens) and GitHub (its authorize/token
 * endpoints), plus the two HTTP APIs the server calls that the mock lacks: GitHub's `/user`
 * and `/user/emails`, and Resend's `POST /emails`, whose recorded mails the tests read back
 * from inside workerd with `GET /_test/mails?to=…`.
 *
 * It also runs SQL on the run's database for tests (`POST /_test/sql`): audit rows, and moving
 * a lockout or an expiry into the past. From Node, because postgres.js sockets opened by test
 * code inside workerd outlive their I/O context and end in stray rejections.
 *
 * `POST /_test/ci-id-token {claims, expires_in?}` signs a CI job's ID token with the mock's key.
 *
 * Who signs in is chosen by the test: `login_hint=<sub>|<email>|<verified 0/1>` on /authorize
 * is remembered for the code it issues and stamped into the tokens for that code.
 */
import type { ServerResponse } from "node:http";
import { decodeJwt } from "jose";
import { type MutableRedirectUri, type MutableToken, OAuth2Server } from "oauth2-mock-server";
import postgres from "postgres";
import type { TestProject } from "vitest/node";

declare module "vitest" {
	export interface ProvidedContext {
		oauthIssuer: string;
		resendApiKey: string;
	}
}

export const RESEND_TEST_KEY = "re_test_coditect";

interface Identity {
	sub: string;
	email: string;
	verified: boolean;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const server = new OAuth2Server();
	await server.issuer.keys.generate("RS256");
	await server.start(0, "127.0.0.1");
	const issuer = server.issuer.url;
	if (!issuer) throw new Error("oauth mock has no issuer url");

	const identities = new Map<string, Identity>();
	const mails: Array<{ to: string; subject: string; text: string; at: number }> = [];

	server.service.on(
		"beforeAuthorizeRedirect",
		(redirect: MutableRedirectUri, req: { query?: Record<string, unknown> }) => {
			const hint = req.query?.login_hint;
			const code = redirect.url.searchParams.get("code");
			if (typeof hint !== "string" || !code) return;
			const [sub = "", email = "", verified = "1"] = hint.split("|");
			identities.set(code, { sub, email, verified: verified === "1" });
		},
	);
	server.service.on("beforeTokenSigning", (token: MutableToken, req: { body?: unknown }) => {
		const body = req.body as Record<string, unknown> | undefined;
		const who = typeof body?.code === "string" ? identities.get(body.code) : undefined;
		if (!who) return;
		token.payload.sub = who.sub;
		token.payload.email = who.email;
		token.payload.email_verified = who.verified;
	});

	const json = (res: ServerResponse, status: number, body: unknown): void => {
		res.writeHead(status, { "content-type": "application/json" });
		res.end(JSON.stringify(body));
	};
	const bearerClaims = (header: string | undefined): Record<string, unknown> | null => {
		const token = header?.startsWith("Bearer ") ? header.slice(7) : "";
		try {
			return decodeJwt(token);
		} catch {
			return null;
		}
	};

	// GitHub's REST API, answering for whoever the mock's access token names.
	server.service.addRoute("GET", "/user", (req, res) => {
		const claims = bearerClaims(req.headers.authorization);
		if (!claims) return json(res, 401, { message: "Bad credentials" });
		json(res, 200, { id: Number(claims.sub) || claims.sub, login: `user-${String(claims.sub)}` });
	});
	server.service.addRoute("GET", "/user/emails", (req, res) => {
		const claims = bearerClaims(req.headers.authorization);
		if (!claims) return json(res, 401, { message: "Bad credentials" });
		json(res, 200, [
			{ email: "noreply@users.example", primary: false, verified: true },
			{ email: claims.email, primary: true, verified: claims.email_verified === true },
		]);
	});

	// Resend.
	server.service.addRoute("POST", "/emails", (req, res) => {
		if (req.headers.authorization !== `Bearer ${RESEND_TEST_KEY}`) {
			return json(res, 401, { message: "API key is invalid" });
		}
		const body = req.body as { to?: unknown; subject?: unknown; text?: unknown };
		const to = Array.isArray(body.to) ? body.to : [body.to];
		for (const t of to) {
			mails.push({
				to: String(t),
				subject: String(body.subject),
				text: String(body.text),
				at: Date.now(),
			});
		}
		json(res, 200, { id: crypto.randomUUID() });
	});
	server.service.addRoute("GET", "/_test/mails", (req, res) => {
		const to = String(req.query.to ?? "").toLowerCase();
		json(res, 200, { mails: mails.filter((m) => m.to.toLowerCase() === to) });
	});

	// A CI provider's OIDC ID token (GitHub Actions / GitLab shaped claims chosen by the test),
	// signed with the mock's key: for the CI trust-rule tests.
	server.service.addRoute("POST", "/_test/ci-id-token", async (req, res) => {
		const body = req.body as { claims?: Record<string, unknown>; expires_in?: number };
		const token = await server.issuer.buildToken({
			expiresIn: body.expires_in ?? 300,
			scopesOrTransform: (_header, payload) => Object.assign(payload, body.claims ?? {}),
		});
		json(res, 200, { token });
	});

	// A DNS-over-HTTPS resolver (JSON API) for SSO domain verification: TXT records the tests
	// publish with `POST /_test/dns {name, txt}`, served at /dns-query like Cloudflare's.
	const zone = new Map<string, string[]>();
	server.service.addRoute("POST", "/_test/dns", (req, res) => {
		const body = req.body as { name: string; txt: string[] };
		zone.set(body.name.toLowerCase(), body.txt);
		json(res, 200, { ok: true });
	});
	server.service.addRoute("GET", "/dns-query", (req, res) => {
		const name = String(req.query.name ?? "").toLowerCase();
		const txt = zone.get(name);
		json(
			res,
			200,
			txt
				? {
						Status: 0,
						Answer: txt.map((t) => ({ name, type: 16, TTL: 60, data: JSON.stringify(t) })),
					}
				: { Status: 3 },
		);
	});

	let db: postgres.Sql | undefined;
	server.service.addRoute("POST", "/_test/sql", async (req, res) => {
		const body = req.body as { text: string; params: postgres.ParameterOrJSON<never>[] };
		db ??= postgres(project.getProvidedContext().databaseUrl, { max: 2, onnotice: () => {} });
		try {
			json(res, 200, { rows: await db.unsafe(body.text, body.params) });
		} catch (err) {
			json(res, 500, { error: err instanceof Error ? err.message : String(err) });
		}
	});

	project.provide("oauthIssuer", issuer);
	project.provide("resendApiKey", RESEND_TEST_KEY);
	return async () => {
		await db?.end({ timeout: 2 });
		await server.stop();
	};
}
