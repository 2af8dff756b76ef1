/** The OAuth loopback listener and PKCE, in process, and `login --provider --invite` as a real
 * process (the rest of the browser login against the real server is in accounts.test.ts). */
import { stat } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
	authorizationUrl,
	createPkce,
	pkceChallenge,
	startLoopback,
} from "../../cli/account/oauth";
import { approveInBrowser, mintInvite, randomEmail } from "./account-helpers";
import { perTest, show, spawnCli } from "./helpers";

const { serverWith, home } = perTest();

function get(url: string, host = "127.0.0.1"): Promise<{ status: number; body: string }> {
	return new Promise((ok, fail) => {
		const u = new URL(url);
		const req = request(
			{ host, port: u.port, path: `${u.pathname}${u.search}`, method: "GET" },
			(res) => {
				let body = "";
				res.on("data", (d: Buffer) => {
					body += d.toString();
				});
				res.on("end", () => ok({ status: res.statusCode ?? 0, body }));
			},
		);
		req.on("error", fail);
		req.end();
	});
}

describe("PKCE", () => {
	it("computes the RFC 7636 appendix B S256 challenge", () => {
		expect(pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
			"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		);
	});

	it("makes a fresh 43-character verifier each time, with its own challenge", () => {
		const a = createPkce();
		const b = createPkce();
		expect(a.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
		expect(a.verifier).not.toBe(b.verifier);
		expect(a.challenge).toBe(pkceChallenge(a.verifier));
	});

	it("puts S256, state and the loopback redirect in the authorization URL", () => {
		const url = new URL(
			authorizationUrl({
				endpoint: "https://github.com/login/oauth/authorize",
				clientId: "cid",
				scopes: ["read:user", "user:email"],
				redirectUri: "http://127.0.0.1:5555/callback/github",
				state: "s1",
				challenge: "c1",
			}),
		);
		expect(Object.fromEntries(url.searchParams)).toEqual({
			response_type: "code",
			client_id: "cid",
			redirect_uri: "http://127.0.0.1:5555/callback/github",
			scope: "read:user user:email",
			state: "s1",
			code_challenge: "c1",
			code_challenge_method: "S256",
		});
	});
});

describe("the loopback listener", () => {
	it("listens on 127.0.0.1 at a random port, not on other interfaces", async () => {
		const a = await startLoopback({ provider: "github", state: "x" });
		const b = await startLoopback({ provider: "github", state: "y" });
		try {
			expect(a.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\/github$/);
			expect(a.port).not.toBe(b.port);
			await expect(get(`http://127.0.0.1:${a.port}/callback/github`, "::1")).rejects.toThrow();
		} finally {
			await a.close();
			await b.close();
		}
	});

	it("refuses a wrong state or path and keeps waiting; accepts the right one once, then closes", async () => {
		const loop = await startLoopback({ provider: "google", state: "right-state" });
		const wrongState = await get(`${loop.redirectUri}?code=evil&state=wrong-state`);
		expect(wrongState.status).toBe(400);
		expect(wrongState.body).toContain("state mismatch");
		const wrongPath = await get(
			`http://127.0.0.1:${loop.port}/callback/github?code=x&state=right-state`,
		);
		expect(wrongPath.status).toBe(404);
		const ok = await get(`${loop.redirectUri}?code=the-code&state=right-state`);
		expect(ok.status).toBe(200);
		await expect(loop.code).resolves.toBe("the-code");
		await expect(get(`${loop.redirectUri}?code=again&state=right-state`)).rejects.toThrow();
	});

	it("with the state still unknown (SSO: it comes from the server), refuses every callback", async () => {
		let state: string | null = null;
		const loop = await startLoopback({
			provider: "sso",
			state: () => state,
			retry: "coditect login --sso me@acme.example",
			timeoutMs: 2_000,
		});
		const early = await get(`${loop.redirectUri}?code=early&state=anything`);
		expect(early.status).toBe(400);
		state = "from-the-server";
		const ok = await get(`${loop.redirectUri}?code=the-code&state=from-the-server`);
		expect(ok.status).toBe(200);
		await expect(loop.code).resolves.toBe("the-code");
	});

	it("names the command to run again after a timeout", async () => {
		const loop = await startLoopback({
			provider: "sso",
			state: "s",
			retry: "coditect login --sso me@acme.example",
			timeoutMs: 50,
		});
		await expect(loop.code).rejects.toThrow(/Run `coditect login --sso me@acme\.example` again/);
	});

	it("reports a provider refusal", async () => {
		const loop = await startLoopback({ provider: "github", state: "s" });
		await get(`${loop.redirectUri}?error=access_denied&state=s`);
		await expect(loop.code).rejects.toThrow(/refused the login \(access_denied\)/);
	});

	it("gives up after the timeout and frees the port", async () => {
		const loop = await startLoopback({ provider: "github", state: "s", timeoutMs: 100 });
		await expect(loop.code).rejects.toMatchObject({ code: "LOGIN_TIMEOUT" });
		await new Promise((ok) => setTimeout(ok, 20));
		await expect(get(`${loop.redirectUri}?code=late&state=s`)).rejects.toThrow();
	});
});

describe("login --provider on an invite-only server", () => {
	async function browserLogin(extra: string[], who: { sub: string; email: string }) {
		const server = await serverWith({ oauth: true });
		const h = await home();
		const cli = spawnCli(["login", "--provider", "github", "--no-browser", ...extra], {
			home: h,
			apiUrl: server.url,
		});
		const [printed] = await cli.stderrMatch(/http:\/\/\S+\/authorize\?\S+/);
		await approveInBrowser(printed, who);
		return { result: await cli.result, home: h, server };
	}

	it("refuses a new account without --invite (exit 1), says how to pass one, and stores nothing", async () => {
		const { result, home: h } = await browserLogin([], {
			sub: String(Date.now()),
			email: randomEmail("no-invite"),
		});
		expect(result.code, show(result)).toBe(1);
		expect(result.stderr).toContain("coditect login --provider github --invite CODE");
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});

	it("creates the account with --invite CODE and logs in", async () => {
		const server = await serverWith({ oauth: true });
		const invite = await mintInvite(server);
		const h = await home();
		const email = randomEmail("invited");
		const cli = spawnCli(
			["login", "--provider", "github", "--invite", invite, "--no-browser", "--json"],
			{ home: h, apiUrl: server.url },
		);
		const [printed] = await cli.stderrMatch(/http:\/\/\S+\/authorize\?\S+/);
		await approveInBrowser(printed, { sub: String(Date.now()), email });
		const r = await cli.result;
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ logged_in: true, user: { email } });
	});
});
