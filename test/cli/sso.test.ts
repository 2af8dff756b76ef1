/** `coditect login --sso` as a real process against the real Node server: the org's provider
 * is oauth2-mock-server, the browser step follows its redirect to the CLI's loopback. */
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { api, approveInBrowser, createAccount, readCredentials } from "./account-helpers";
import { type LicenseServer, perTest, runCli, show, spawnCli } from "./helpers";

const { serverWith, home } = perTest();

async function testSql(text: string, params: Array<string | number> = []): Promise<unknown[]> {
	const res = await fetch(`${inject("oauthIssuer")}/_test/sql`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ text, params }),
	});
	return ((await res.json()) as { rows: unknown[] }).rows;
}

/** An SMB org on `server` whose owner connected the mock provider and verified a domain. */
async function ssoOrg(
	server: LicenseServer,
	opts: { seats?: number; passwordOff?: boolean } = {},
): Promise<{ orgId: string; domain: string }> {
	const owner = await createAccount(server);
	const bearer = owner.session.access_token;
	const org = await api(server, "POST", "/api/v1/orgs", { json: { name: "Acme" }, bearer });
	const orgId = String(org.body.id);
	const { id } = await server.mintLicense({ plan: "smb", owner_email: owner.email, org_id: orgId });
	if (opts.seats !== undefined) {
		await testSql("update licenses set seats = $1 where id = $2", [opts.seats, id]);
	}
	const put = await fetch(`${server.url}/api/v1/orgs/${orgId}/sso`, {
		method: "PUT",
		headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
		body: JSON.stringify({
			issuer: inject("oauthIssuer"),
			client_id: "acme-cli",
			client_secret: "acme-cli-secret",
			password_login_disabled: opts.passwordOff ?? false,
		}),
	});
	if (put.status !== 200) throw new Error(`sso: ${put.status} ${await put.text()}`);
	const domain = `acme-${randomUUID().slice(0, 8)}.example`;
	const added = await api(server, "POST", `/api/v1/orgs/${orgId}/sso/domains`, {
		json: { domain },
		bearer,
	});
	const record = added.body.verification as { name: string; value: string };
	await fetch(`${inject("oauthIssuer")}/_test/dns`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ name: record.name, txt: [record.value] }),
	});
	const verified = await api(server, "POST", `/api/v1/orgs/${orgId}/sso/domains/${domain}/verify`, {
		json: {},
		bearer,
	});
	if (verified.status !== 200) throw new Error(`verify: ${JSON.stringify(verified)}`);
	return { orgId, domain };
}

/** Runs `login --sso value`, approves in the "browser" as `email`, returns the exit. */
async function ssoLogin(server: LicenseServer, h: string, value: string, email: string) {
	const cli = spawnCli(["login", "--sso", value, "--no-browser", "--json"], {
		home: h,
		apiUrl: server.url,
	});
	const [printed] = await cli.stderrMatch(/http:\/\/\S+\/authorize\?\S+/);
	const url = new URL(printed);
	expect(url.searchParams.get("redirect_uri")).toMatch(
		/^http:\/\/127\.0\.0\.1:\d+\/callback\/sso$/,
	);
	const browser = await approveInBrowser(printed, { sub: randomUUID(), email });
	expect(browser.status).toBe(200);
	return cli.result;
}

describe("coditect login --sso", () => {
	it("logs a new member in through the org's provider onto a free seat, by address or org id", async () => {
		const server = await serverWith({ mail: true, sso: true });
		const { orgId, domain } = await ssoOrg(server);
		const h = await home();
		const email = `ann-${randomUUID().slice(0, 8)}@${domain}`;
		const r = await ssoLogin(server, h, email, email);
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({
			logged_in: true,
			user: { email },
			org: { id: orgId, name: "Acme", role: "member" },
			joined: true,
		});
		expect(await readCredentials(h)).toMatchObject({ user: { email } });
		const whoami = await runCli(["whoami", "--json"], { home: h, apiUrl: server.url });
		expect(whoami.code, show(whoami)).toBe(0);
		expect(JSON.stringify(whoami.json)).toContain(email);

		// Again by org id, in plain text: a member already, no new seat.
		const h2 = await home();
		const cli = spawnCli(["login", "--sso", orgId, "--no-browser"], {
			home: h2,
			apiUrl: server.url,
		});
		const [printed] = await cli.stderrMatch(/http:\/\/\S+\/authorize\?\S+/);
		await approveInBrowser(printed, { sub: randomUUID(), email });
		const again = await cli.result;
		expect(again.code, show(again)).toBe(0);
		expect(again.stderr).toContain("log in to Acme with its single sign-on");
		expect(again.stdout).toContain(`Logged in as ${email}.`);
		expect(again.stdout).toContain("Member of Acme (member).");
	});

	it("says clearly when no seat is free, exits 1 and stores no session", async () => {
		const server = await serverWith({ mail: true, sso: true });
		const { domain } = await ssoOrg(server, { seats: 1 });
		const h = await home();
		const email = `bob-${randomUUID().slice(0, 8)}@${domain}`;
		const r = await ssoLogin(server, h, email, email);
		expect(r.code, show(r)).toBe(1);
		expect(r.json).toMatchObject({ error: { code: "SEAT_LIMIT_REACHED", seats: 1, used: 1 } });
		const message = String((r.json.error as { message: string }).message);
		expect(message).toContain("Every seat of Acme is taken (1 of 1)");
		expect(message).toContain("No one was logged in.");
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});

	it("says when no organisation signs the address in, before any browser step", async () => {
		const server = await serverWith({ sso: true });
		const h = await home();
		const r = await runCli(["login", "--sso", "x@nobody-here.example", "--no-browser"], {
			home: h,
			apiUrl: server.url,
		});
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain(
			"No organisation signs in x@nobody-here.example through single sign-on",
		);
		expect(r.stderr).not.toContain("/authorize");
		const bad = await runCli(["login", "--sso", "not an address"], { home: h, apiUrl: server.url });
		expect(bad.code, show(bad)).toBe(1);
		expect(bad.stderr).toContain("neither an email address nor an organisation id");
	});

	it("points password login for an SSO-only domain at --sso", async () => {
		const server = await serverWith({ mail: true, sso: true });
		const { domain } = await ssoOrg(server, { passwordOff: true });
		const h = await home();
		const email = `cy-${randomUUID().slice(0, 8)}@${domain}`;
		const r = await runCli(["login", "--email", email, "--password-stdin"], {
			home: h,
			apiUrl: server.url,
			stdin: "a long enough password\n",
		});
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain(`coditect login --sso ${email}`);
		await expect(stat(join(h, "credentials.json"))).rejects.toThrow();
	});

	it("documents --sso in the help", async () => {
		const h = await home();
		const r = await runCli(["login", "--help"], { home: h });
		expect(r.code, show(r)).toBe(0);
		const text = r.stdout + r.stderr;
		expect(text).toContain("--sso");
		expect(text).toContain("coditect login --sso me@acme.com");
		expect(text).toContain("EXIT CODES");
	});
});
