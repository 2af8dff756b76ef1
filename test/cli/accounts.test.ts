/**
 * The account commands end to end: the CLI as a real process against the real Node server,
 * with oauth2-mock-server playing Google and GitHub and a fake Resend endpoint carrying the
 * mailed codes. Each test gets its own server process, so the per-IP login (5/min) and
 * signup (3/min) limits of one test never reach the next; they all share the run's database.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
	api,
	approveInBrowser,
	createAccount,
	mintInvite,
	PASSWORD,
	randomEmail,
	readCredentials,
	verificationCode,
	writeCredentials,
} from "./account-helpers";
import { type CliResult, type LicenseServer, perTest, runCli, show, spawnCli } from "./helpers";

const GENERIC = "Wrong email or password (or the account is locked or not verified yet).";

const { serverWith, home } = perTest();

function login(server: LicenseServer, h: string, email: string, password = PASSWORD) {
	return runCli(["login", "--email", email, "--password-stdin", "--json"], {
		home: h,
		apiUrl: server.url,
		stdin: `${password}\n`,
	});
}

async function fileMode(path: string): Promise<string> {
	return ((await stat(path)).mode & 0o777).toString(8);
}

describe("signup", () => {
	it("with an operator's invite and the mailed code logs in and stores the session 0600", async () => {
		const server = await serverWith({ mail: true });
		const h = await home();
		const email = randomEmail("signup");
		const cli = spawnCli(
			[
				"signup",
				"--invite",
				await mintInvite(server),
				"--email",
				email,
				"--password-stdin",
				"--json",
			],
			{ home: h, apiUrl: server.url },
		);
		cli.writeLine(PASSWORD);
		await cli.stderrMatch(/We sent a 6-digit code/);
		cli.endInput(`${await verificationCode(email)}\n`);
		const r = await cli.result;
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ logged_in: true, user: { email } });
		expect(await fileMode(join(h, "credentials.json"))).toBe("600");

		const who = await runCli(["whoami", "--json"], { home: h, apiUrl: server.url });
		expect(who.code, show(who)).toBe(0);
		expect(who.json).toMatchObject({ user: { email }, offline: false, licenses: 0 });
	});

	it("without an invite on an invite-only server is refused (exit 1) and stores nothing", async () => {
		const server = await serverWith({ mail: true });
		const h = await home();
		const r = await runCli(
			["signup", "--email", randomEmail("no-invite"), "--password-stdin", "--json"],
			{ home: h, apiUrl: server.url, stdin: `${PASSWORD}\n` },
		);
		expect(r.code, show(r)).toBe(1);
		expect(r.json).toMatchObject({ error: { code: "INVITE_REQUIRED" } });
		const human = await runCli(
			["signup", "--email", randomEmail("no-invite"), "--password-stdin"],
			{
				home: h,
				apiUrl: server.url,
				stdin: `${PASSWORD}\n`,
			},
		);
		expect(human.stderr).toContain("invite code");
		expect(human.stderr).toContain("--invite");
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});

	it("needs no invite while the pilot signup is open, and refuses a wrong code (exit 1)", async () => {
		const server = await serverWith({ mail: true, pilotSignup: true });
		const h = await home();
		const email = randomEmail("pilot");
		const cli = spawnCli(["signup", "--email", email, "--password-stdin"], {
			home: h,
			apiUrl: server.url,
		});
		cli.writeLine(PASSWORD);
		await cli.stderrMatch(/We sent a 6-digit code/);
		const code = await verificationCode(email);
		cli.endInput(`${code === "000000" ? "111111" : "000000"}\n`);
		const r = await cli.result;
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("That code is wrong or has expired");
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});
});

describe("password login, whoami and logout", () => {
	it("logs in, shows the user, and logout revokes the refresh token on the server", async () => {
		const server = await serverWith({ mail: true });
		const { email } = await createAccount(server);
		const h = await home();
		const opts = { home: h, apiUrl: server.url };

		const r = await login(server, h, email);
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ logged_in: true, user: { email } });
		expect(await fileMode(join(h, "credentials.json"))).toBe("600");

		const who = await runCli(["whoami", "--json"], opts);
		expect(who.code, show(who)).toBe(0);
		expect(who.json).toMatchObject({ user: { email }, offline: false, expiring_soon: false });

		const { refresh_token } = await readCredentials(h);
		const out = await runCli(["logout", "--json"], opts);
		expect(out.code, show(out)).toBe(0);
		expect(out.json).toMatchObject({ logged_out: true, revoked: true });
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
		const reuse = await api(server, "POST", "/api/v1/auth/refresh", { json: { refresh_token } });
		expect(reuse.status).toBe(401);
	});

	it("whoami holds offline for 7 days, then says to connect (exit 3), and warns before the session ends", async () => {
		const server = await serverWith({ mail: true });
		const { email } = await createAccount(server);
		const h = await home();
		const opts = { home: h, apiUrl: server.url };
		expect((await login(server, h, email)).code).toBe(0);

		await server.down();
		const offline = await runCli(["whoami", "--json"], opts);
		expect(offline.code, show(offline)).toBe(0);
		expect(offline.json).toMatchObject({ user: { email }, offline: true });
		const stale = await runCli(["whoami", "--json"], { ...opts, faketime: "+8d" });
		expect(stale.code, show(stale)).toBe(3);
		expect(stale.json).toMatchObject({ error: { code: "OFFLINE_GRACE_EXPIRED" } });
		await server.up();

		// A session with 3 days left (its 90-day end moved in the file: only the warning reads it).
		const creds = await readCredentials(h);
		await writeCredentials(h, {
			...creds,
			refresh_expires_at: Math.floor(Date.now() / 1000) + 3 * 86400,
		});
		const ending = await runCli(["whoami"], opts);
		expect(ending.code, show(ending)).toBe(0);
		expect(ending.stderr).toMatch(/Your session ends in [23]d/);
		expect(ending.stderr).toContain("coditect login");
	});

	it("refreshes an expired access token transparently, rotating the refresh token", async () => {
		const server = await serverWith({ mail: true });
		const { email } = await createAccount(server);
		const h = await home();
		expect((await login(server, h, email)).code).toBe(0);
		const before = await readCredentials(h);

		// 16 minutes later by the CLI's clock, the 15-minute access token has expired.
		const who = await runCli(["whoami", "--json"], {
			home: h,
			apiUrl: server.url,
			faketime: "+16m",
		});
		expect(who.code, show(who)).toBe(0);
		expect(who.json).toMatchObject({ user: { email }, offline: false });
		const after = await readCredentials(h);
		expect(after.access_token).not.toBe(before.access_token);
		expect(after.refresh_token).not.toBe(before.refresh_token);

		// The rotated-out token is dead, and replaying it ends the whole session family.
		const replay = await api(server, "POST", "/api/v1/auth/refresh", {
			json: { refresh_token: before.refresh_token },
		});
		expect(replay.status).toBe(401);
		const ended = await runCli(["whoami", "--json"], { home: h, apiUrl: server.url });
		expect(ended.code, show(ended)).toBe(1);
		expect(ended.json).toMatchObject({ error: { code: "SESSION_EXPIRED" } });
		expect(JSON.stringify(ended.json)).toContain("coditect login");
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});
});

describe("failed logins", () => {
	it("a wrong password is refused (exit 1) with the generic message; after 5, the account is locked behind the same message", async () => {
		const server = await serverWith({ mail: true });
		const { email } = await createAccount(server);
		const h = await home();
		const failures: CliResult[] = [];
		for (let i = 0; i < 5; i++) failures.push(await login(server, h, email, "wrong password!"));
		for (const r of failures) {
			expect(r.code, show(r)).toBe(1);
			expect(r.json).toMatchObject({ error: { code: "INVALID_CREDENTIALS" } });
		}

		// Five logins spent this address's budget (5/min) on this server process; a restarted
		// one starts a new budget, while the lockout is the account's, kept in the database.
		await server.down();
		await server.up();
		const attempt = (who: string, password: string) =>
			runCli(["login", "--email", who, "--password-stdin"], {
				home: h,
				apiUrl: server.url,
				stdin: `${password}\n`,
			});
		const locked = await attempt(email, PASSWORD);
		expect(locked.code, show(locked)).toBe(1);
		expect(locked.stderr).toContain(GENERIC);
		const wrong = await attempt(email, "wrong password!");
		const unknown = await attempt(randomEmail("nobody"), PASSWORD);
		expect(wrong.stderr).toBe(locked.stderr);
		expect(unknown.stderr).toBe(locked.stderr);
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});
});

describe("browser login", () => {
	for (const provider of ["github", "google"] as const) {
		it(`--provider ${provider}: PKCE S256 and a loopback redirect; a forged state is refused, the browser's redirect logs in`, async () => {
			// Open signup: a new account needs no invite (the invite-only door: oauth.test.ts).
			const server = await serverWith({ oauth: true, pilotSignup: true });
			const h = await home();
			const cli = spawnCli(["login", "--provider", provider, "--no-browser", "--json"], {
				home: h,
				apiUrl: server.url,
			});
			const [printed] = await cli.stderrMatch(/http:\/\/\S+\/authorize\?\S+/);
			const q = new URL(printed).searchParams;
			expect(q.get("client_id")).toBe(`${provider}-test-client`);
			expect(q.get("code_challenge_method")).toBe("S256");
			expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
			const redirect = q.get("redirect_uri") ?? "";
			expect(redirect).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/callback/${provider}$`));

			const forged = await fetch(`${redirect}?code=stolen&state=forged`);
			expect(forged.status).toBe(400);

			const who = { sub: String(Date.now()), email: randomEmail(provider) };
			const browser = await approveInBrowser(printed, who);
			expect(browser.status).toBe(200);
			expect(await browser.text()).toContain("Signed in");
			const r = await cli.result;
			expect(r.code, show(r)).toBe(0);
			expect(r.json).toMatchObject({ logged_in: true, user: { email: who.email } });
			expect(await fileMode(join(h, "credentials.json"))).toBe("600");
		});
	}

	it("the server checks the PKCE verifier: a code issued for another challenge is refused (exit 1)", async () => {
		const server = await serverWith({ oauth: true });
		const h = await home();
		const cli = spawnCli(["login", "--provider", "github", "--no-browser"], {
			home: h,
			apiUrl: server.url,
		});
		const [printed] = await cli.stderrMatch(/http:\/\/\S+\/authorize\?\S+/);
		// Someone swapped the challenge: the provider binds the code to theirs, not the CLI's.
		const swapped = new URL(printed);
		swapped.searchParams.set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
		await approveInBrowser(swapped.toString(), { sub: "1", email: randomEmail("pkce") });
		const r = await cli.result;
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("coditect login --provider github");
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});
});
