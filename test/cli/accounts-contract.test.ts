/**
 * The account commands against a stand-in for the SPEC §3.2–3.4 contract (auth, /me,
 * activate-mine, billing). The real routes are being built in parallel; until they land this
 * checks the CLI's half of the contract: request shapes, PKCE, session files, offline grace.
 * The stand-in signs license tokens with src/license and publishes its JWKS like the server.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashHardwareId } from "../../cli/fingerprint";
import {
	generateSigningKeyPair,
	importSigningKey,
	licenseTokenClaims,
	type SigningKey,
	signLicenseToken,
} from "../../src/license/token";
import { CLI, readLicenseJson, runCli, show, tempHome } from "./helpers";

type Json = Record<string, unknown>;

interface Seen {
	method: string;
	path: string;
	auth: string | undefined;
	body: Json;
}

class ContractServer {
	url = "";
	seen: Seen[] = [];
	licenses: Json[] = [];
	private server: Server | null = null;
	private key: SigningKey | null = null;
	private publicJwk: Json = {};
	private pending: { challenge: string; redirect: string } | null = null;
	private refreshCount = 0;

	async start(port = 0): Promise<void> {
		if (this.key === null) {
			const pair = await generateSigningKeyPair();
			this.key = await importSigningKey(pair.privateJwk);
			this.publicJwk = pair.publicJwk;
		}
		this.server = createServer((req, res) => void this.handle(req, res));
		await new Promise<void>((ok) => this.server?.listen(port, "127.0.0.1", ok));
		const address = this.server.address() as AddressInfo;
		this.url = `http://127.0.0.1:${address.port}`;
	}

	async stop(): Promise<void> {
		const server = this.server;
		this.server = null;
		await new Promise<void>((ok) => {
			server?.close(() => ok());
			server?.closeAllConnections();
		});
	}

	async restart(): Promise<void> {
		await this.start(Number(new URL(this.url).port));
	}

	private session(): Json {
		this.refreshCount++;
		return {
			token_type: "Bearer",
			access_token: `access-${this.refreshCount}`,
			expires_in: 900,
			refresh_token: `refresh-${this.refreshCount}`,
			refresh_expires_in: 7_776_000,
			user: { id: "usr_ada", email: "ada@example.com" },
		};
	}

	private async token(hardwareId: string, licenseId: string): Promise<string> {
		if (this.key === null) throw new Error("not started");
		return signLicenseToken(
			this.key,
			licenseTokenClaims({
				issuer: this.url,
				licenseId,
				hardwareId,
				lic: {
					plan: "professional",
					status: "active",
					expires_at: null,
					max_activations: 3,
					entitlements: [],
				},
				licenseExpiresAt: null,
			}),
		);
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		let raw = "";
		for await (const chunk of req) raw += String(chunk);
		const body = (raw ? JSON.parse(raw) : {}) as Json;
		const url = new URL(req.url ?? "/", this.url);
		this.seen.push({
			method: req.method ?? "",
			path: url.pathname,
			auth: req.headers.authorization,
			body,
		});
		const send = (status: number, json?: unknown) => {
			res.writeHead(status, { "content-type": "application/json" });
			res.end(json === undefined ? "" : JSON.stringify(json));
		};
		const bearer = req.headers.authorization?.startsWith("Bearer access-");
		const route = `${req.method} ${url.pathname}`;
		switch (route) {
			case "GET /.well-known/jwks.json":
				return send(200, { keys: [this.publicJwk] });
			case "POST /api/v1/auth/login":
				return body.password === "correct horse battery"
					? send(200, this.session())
					: send(401, {
							error: { code: "INVALID_CREDENTIALS", message: "Invalid email or password." },
						});
			case "POST /api/v1/auth/refresh":
				return send(200, this.session());
			case "POST /api/v1/auth/logout":
				return send(bearer ? 204 : 401);
			case "GET /api/v1/me":
				return bearer
					? send(200, {
							user: { id: "usr_ada", email: "ada@example.com" },
							licenses: this.licenses,
						})
					: send(401);
			case "GET /api/v1/auth/oauth/providers":
				return send(200, {
					providers: [
						{
							name: "github",
							authorization_endpoint: "https://github.test/login/oauth/authorize",
							client_id: "cid",
							scopes: ["user:email"],
						},
					],
				});
			case "POST /api/v1/auth/oauth/callback": {
				const verifier = String(body.code_verifier);
				const challenge = createHash("sha256").update(verifier).digest("base64url");
				const ok =
					this.pending !== null &&
					challenge === this.pending.challenge &&
					body.redirect_uri === this.pending.redirect &&
					body.code === "provider-code" &&
					body.provider === "github";
				return ok
					? send(200, { ...this.session(), licenses: [] })
					: send(400, { error: { code: "INVALID_REQUEST", message: "bad exchange" } });
			}
			case "GET /api/v1/licenses":
				return bearer ? send(200, { licenses: this.licenses }) : send(401);
			case "POST /api/v1/licenses/activate-mine": {
				if (!bearer) return send(401);
				const license = this.licenses[0];
				if (!license)
					return send(404, { error: { code: "LICENSE_NOT_FOUND", message: "No license." } });
				const hw = String(body.hardware_id);
				return send(200, {
					activation: { id: "act_1", hardware_id: hw },
					license,
					token: await this.token(hw, String(license.id)),
				});
			}
			case "POST /api/v1/billing/checkout":
				// The "payment" lands a moment after checkout starts.
				setTimeout(
					() =>
						this.licenses.push({
							id: "lic_paid",
							plan: "professional",
							status: "active",
							expires_at: null,
							max_activations: 3,
						}),
					500,
				);
				return bearer
					? send(200, { url: "https://checkout.stripe.test/c/cs_1", session_id: "cs_1" })
					: send(401);
			default:
				if (req.method === "DELETE" && url.pathname.startsWith("/api/v1/licenses/"))
					return send(bearer ? 204 : 401);
				return send(404, { error: { code: "NOT_FOUND", message: "Not found." } });
		}
	}

	expectPkce(challenge: string, redirect: string): void {
		this.pending = { challenge, redirect };
	}
}

let api: ContractServer;
beforeAll(async () => {
	api = new ContractServer();
	await api.start();
});
afterAll(async () => api.stop());

describe("password login, whoami, logout", () => {
	it("logs in, shows the session (offline too, for 7 days), and revokes it on logout", async () => {
		const t = await tempHome();
		try {
			const opts = { home: t.home, apiUrl: api.url };
			const wrong = await runCli(["login", "--email", "ada@example.com", "--password-stdin"], {
				...opts,
				stdin: "nope nope nope\n",
			});
			expect(wrong.code, show(wrong)).toBe(1);
			expect(wrong.stderr).toContain("Wrong email or password");

			const login = await runCli(
				["login", "--email", "ada@example.com", "--password-stdin", "--json"],
				{
					...opts,
					stdin: "correct horse battery\n",
				},
			);
			expect(login.code, show(login)).toBe(0);
			expect(login.json).toMatchObject({ logged_in: true, user: { email: "ada@example.com" } });
			expect(((await stat(join(t.home, "credentials.json"))).mode & 0o777).toString(8)).toBe("600");

			const who = await runCli(["whoami", "--json"], opts);
			expect(who.code, show(who)).toBe(0);
			expect(who.json).toMatchObject({
				user: { email: "ada@example.com" },
				offline: false,
				expiring_soon: false,
			});

			await api.stop();
			const offline = await runCli(["whoami", "--json"], opts);
			expect(offline.code, show(offline)).toBe(0);
			expect(offline.json).toMatchObject({ offline: true });
			const stale = await runCli(["whoami", "--json"], { ...opts, faketime: "+8d" });
			expect(stale.code, show(stale)).toBe(3);
			expect(stale.json).toMatchObject({ error: { code: "OFFLINE_GRACE_EXPIRED" } });
			await api.restart();

			// A session with 3 days left: whoami warns and says what to do.
			const credsPath = join(t.home, "credentials.json");
			const creds = JSON.parse(await readFile(credsPath, "utf8")) as Json;
			await writeFile(
				credsPath,
				JSON.stringify({ ...creds, refresh_expires_at: Math.floor(Date.now() / 1000) + 3 * 86400 }),
			);
			const ending = await runCli(["whoami"], opts);
			expect(ending.code, show(ending)).toBe(0);
			expect(ending.stderr).toMatch(/Your session ends in [23]d/);
			expect(ending.stderr).toContain("coditect login");

			api.seen = [];
			const logout = await runCli(["logout", "--json"], opts);
			expect(logout.code, show(logout)).toBe(0);
			expect(logout.json).toMatchObject({ logged_out: true, revoked: true });
			const call = api.seen.find((s) => s.path === "/api/v1/auth/logout");
			expect(call?.auth).toMatch(/^Bearer access-/);
			expect(call?.body.refresh_token).toMatch(/^refresh-/);
			await expect(stat(join(t.home, "credentials.json"))).rejects.toThrow();
		} finally {
			await t.cleanup();
		}
	});
});

describe("browser login", () => {
	it("uses PKCE S256, state and a 127.0.0.1 loopback redirect, and finishes when the browser comes back", async () => {
		const t = await tempHome();
		try {
			const child = spawn(
				process.execPath,
				[CLI, "login", "--provider", "github", "--no-browser", "--json"],
				{
					env: {
						PATH: process.env.PATH ?? "",
						CODITECT_HOME: t.home,
						CODITECT_API_URL: api.url,
						CODITECT_HARDWARE_ID: "m",
						NO_COLOR: "1",
					},
				},
			);
			let stderr = "";
			let stdout = "";
			child.stdout.on("data", (d: Buffer) => {
				stdout += d.toString();
			});
			const authUrl = await new Promise<URL>((ok, fail) => {
				child.stderr.on("data", (d: Buffer) => {
					stderr += d.toString();
					const match = /https:\/\/github\.test\S+/.exec(stderr);
					if (match) ok(new URL(match[0]));
				});
				child.on("exit", () => fail(new Error(`login exited early: ${stderr}`)));
			});
			const q = authUrl.searchParams;
			expect(q.get("code_challenge_method")).toBe("S256");
			expect(q.get("client_id")).toBe("cid");
			const redirect = q.get("redirect_uri") ?? "";
			expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\/github$/);
			api.expectPkce(q.get("code_challenge") ?? "", redirect);

			const forged = await fetch(`${redirect}?code=provider-code&state=forged`);
			expect(forged.status).toBe(400);
			const back = await fetch(
				`${redirect}?code=provider-code&state=${encodeURIComponent(q.get("state") ?? "")}`,
			);
			expect(back.status).toBe(200);
			const code = await new Promise<number | null>((ok) => child.on("close", ok));
			expect(code, stderr).toBe(0);
			expect(JSON.parse(stdout)).toMatchObject({
				logged_in: true,
				user: { email: "ada@example.com" },
			});
		} finally {
			await t.cleanup();
		}
	});
});

describe("licenses for a logged-in user", () => {
	it("upgrade waits for the paid license and activates it; status and deactivate then work without a key", async () => {
		const t = await tempHome();
		try {
			const opts = { home: t.home, apiUrl: api.url };
			api.licenses = [];
			const login = await runCli(["login", "--email", "ada@example.com", "--password-stdin"], {
				...opts,
				stdin: "correct horse battery\n",
			});
			expect(login.code, show(login)).toBe(0);

			const none = await runCli(["activate", "--json"], opts);
			expect(none.code, show(none)).toBe(2);

			const upgrade = await runCli(["upgrade", "professional", "--no-browser", "--json"], opts);
			expect(upgrade.code, show(upgrade)).toBe(0);
			expect(upgrade.json).toMatchObject({
				upgraded: true,
				licensed: true,
				license_id: "lic_paid",
			});
			const checkout = api.seen.find((s) => s.path === "/api/v1/billing/checkout");
			expect(checkout?.body).toEqual({ plan: "professional", interval: "month" });
			const stored = await readLicenseJson(t.home);
			expect(stored).toMatchObject({
				source: "account",
				license_key: null,
				activation_id: "act_1",
			});
			const mine = api.seen.find((s) => s.path === "/api/v1/licenses/activate-mine");
			expect(mine?.body.hardware_id).toBe(hashHardwareId("test-machine-1"));

			const again = await runCli(["activate", "--json"], opts);
			expect(again.code, show(again)).toBe(0);
			const status = await runCli(["license", "status", "--online", "--json"], opts);
			expect(status.code, show(status)).toBe(0);
			expect(status.json).toMatchObject({ licensed: true, revalidation: "done" });

			api.seen = [];
			const off = await runCli(["deactivate", "--json"], opts);
			expect(off.code, show(off)).toBe(0);
			expect(
				api.seen.some(
					(s) => s.method === "DELETE" && s.path === "/api/v1/licenses/lic_paid/activations/act_1",
				),
			).toBe(true);
		} finally {
			await t.cleanup();
		}
	}, 30_000);
});
