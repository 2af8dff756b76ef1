/** The per-org OIDC exchange against a real local provider (oauth2-mock-server): PKCE, nonce,
 * audience and email_verified, through oauth4webapi as the server runs it. */
import { createHash, randomBytes } from "node:crypto";
import { type MutableToken, OAuth2Server } from "oauth2-mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discover, exchangeSsoCode, isAllowedSsoRedirectUri } from "../../src/sso/oidc";

const REDIRECT = "http://127.0.0.1:49200/callback/sso";
let server: OAuth2Server;
let issuer = "";
let claims: Record<string, unknown> = {};

beforeAll(async () => {
	server = new OAuth2Server();
	await server.issuer.keys.generate("RS256");
	await server.start(0, "127.0.0.1");
	issuer = server.issuer.url ?? "";
	server.service.on("beforeTokenSigning", (token: MutableToken) => {
		Object.assign(token.payload, claims);
	});
});
afterAll(() => server.stop());

async function codeFor(opts: { nonce?: string; clientId?: string } = {}) {
	const verifier = randomBytes(32).toString("base64url");
	const url = new URL(`${issuer}/authorize`);
	url.searchParams.set("response_type", "code");
	url.searchParams.set("client_id", opts.clientId ?? "acme-client");
	url.searchParams.set("redirect_uri", REDIRECT);
	url.searchParams.set("scope", "openid email");
	url.searchParams.set("state", "s");
	url.searchParams.set("nonce", opts.nonce ?? "n-1");
	url.searchParams.set("code_challenge", createHash("sha256").update(verifier).digest("base64url"));
	url.searchParams.set("code_challenge_method", "S256");
	const res = await fetch(url, { redirect: "manual" });
	const code = new URL(res.headers.get("location") ?? "").searchParams.get("code") ?? "";
	return { code, verifier };
}

const client = () => ({ issuer, clientId: "acme-client", clientSecret: "acme-secret" });

describe("SSO code exchange", () => {
	it("returns the subject and the verified email for the right nonce", async () => {
		claims = { sub: "u-1", email: "Ann@Acme.Example", email_verified: true };
		const { code, verifier } = await codeFor();
		const who = await exchangeSsoCode(client(), {
			code,
			code_verifier: verifier,
			redirect_uri: REDIRECT,
			nonce: "n-1",
		});
		expect(who).toEqual({ subject: "u-1", verifiedEmail: "ann@acme.example" });
	});

	it("drops an email the provider has not verified", async () => {
		claims = { sub: "u-2", email: "bob@acme.example", email_verified: false };
		const { code, verifier } = await codeFor();
		const who = await exchangeSsoCode(client(), {
			code,
			code_verifier: verifier,
			redirect_uri: REDIRECT,
			nonce: "n-1",
		});
		expect(who.verifiedEmail).toBeNull();
	});

	it("refuses a wrong nonce, a foreign audience and a wrong verifier with INVALID_CODE", async () => {
		claims = { sub: "u-3", email: "c@acme.example", email_verified: true };
		const a = await codeFor({ nonce: "other" });
		await expect(
			exchangeSsoCode(client(), {
				code: a.code,
				code_verifier: a.verifier,
				redirect_uri: REDIRECT,
				nonce: "n-1",
			}),
		).rejects.toMatchObject({ code: "INVALID_CODE" });
		claims = { sub: "u-3", aud: "someone-else", email: "c@acme.example", email_verified: true };
		const b = await codeFor();
		await expect(
			exchangeSsoCode(client(), {
				code: b.code,
				code_verifier: b.verifier,
				redirect_uri: REDIRECT,
				nonce: "n-1",
			}),
		).rejects.toMatchObject({ code: "INVALID_CODE" });
		claims = { sub: "u-3" };
		const c = await codeFor();
		await expect(
			exchangeSsoCode(client(), {
				code: c.code,
				code_verifier: randomBytes(32).toString("base64url"),
				redirect_uri: REDIRECT,
				nonce: "n-1",
			}),
		).rejects.toMatchObject({ code: "INVALID_CODE" });
	});

	it("accepts only the exact loopback /callback/sso redirect", () => {
		expect(isAllowedSsoRedirectUri(REDIRECT)).toBe(true);
		expect(isAllowedSsoRedirectUri("http://[::1]:5/callback/sso")).toBe(true);
		for (const bad of [
			"http://127.0.0.1:5/callback/google",
			"http://localhost:5/callback/sso",
			"https://127.0.0.1:5/callback/sso",
			"http://127.0.0.1:5/callback/sso?x=1",
			"http://127.0.0.1:5/callback/./sso",
		]) {
			expect(isAllowedSsoRedirectUri(bad), bad).toBe(false);
		}
	});

	it("answers BAD_GATEWAY for an issuer with no discovery document", async () => {
		await expect(discover("http://127.0.0.1:1/nothing")).rejects.toMatchObject({
			code: "BAD_GATEWAY",
		});
	});
});
