/**
 * Mail on the Node entry: a local SMTP server (smtp-server) receives the real messages the
 * server sends over SMTP, and a server on a public PUBLIC_URL with no mail provider refuses to
 * start instead of taking signups nobody could ever verify.
 */

import { SMTPServer, type SMTPServer as Smtp } from "smtp-server";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { RunningServer } from "../../src/server";
import { http, nodeServer } from "./support";

interface Received {
	from: string | undefined;
	to: string[];
	user: string | undefined;
	raw: string;
}

/** A plain-text SMTP server on a loopback port that asks for a login and keeps every message. */
async function smtpServer(): Promise<{ port: number; received: Received[]; server: Smtp }> {
	const received: Received[] = [];
	const server = new SMTPServer({
		// No TLS on loopback: the test reads the exact bytes the client sent.
		disabledCommands: ["STARTTLS"],
		allowInsecureAuth: true,
		onAuth(auth, _session, done) {
			if (auth.username === "mailer" && auth.password === "relay-password") {
				done(null, { user: auth.username });
			} else {
				done(new Error("bad login"));
			}
		},
		onData(stream, session, done) {
			let raw = "";
			stream.on("data", (d: Buffer) => {
				raw += d.toString();
			});
			stream.on("end", () => {
				received.push({
					from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
					to: session.envelope.rcptTo.map((r) => r.address),
					user: typeof session.user === "string" ? session.user : undefined,
					raw,
				});
				done();
			});
		},
	});
	await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
	const address = server.server.address();
	const port = typeof address === "object" && address ? address.port : 0;
	return { port, received, server };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(env: Record<string, string>): Promise<RunningServer> {
	const server = await nodeServer({ env });
	cleanups.push(() => server.close());
	return server;
}

async function smtp() {
	const s = await smtpServer();
	cleanups.push(() => new Promise<void>((ok) => s.server.close(() => ok())));
	return s;
}

async function mailTo(received: Received[], to: string): Promise<Received> {
	for (let i = 0; i < 100; i++) {
		const mail = received.find((m) => m.to.includes(to));
		if (mail) return mail;
		await new Promise((ok) => setTimeout(ok, 50));
	}
	throw new Error(`no mail to ${to} (received ${received.length})`);
}

async function invite(server: RunningServer): Promise<string> {
	const res = await http<{ codes: string[] }>(`${server.url}/api/v1/admin/invites`, {
		json: { count: 1 },
		admin: true,
	});
	const code = res.body.codes?.[0];
	if (res.status !== 201 || !code) throw new Error(`invite: ${res.status} ${res.text}`);
	return code;
}

const PUBLIC = "https://license.example.test";
const noResend = { RESEND_API_KEY: "" };

describe("mail over SMTP", () => {
	for (const form of ["SMTP_HOST/PORT/USER/PASS", "SMTP_URL"] as const) {
		it(`with ${form}, the signup code arrives at the SMTP server and verifies the account`, async () => {
			const relay = await smtp();
			const settings: Record<string, string> =
				form === "SMTP_URL"
					? { SMTP_URL: `smtp://mailer:relay-password@127.0.0.1:${relay.port}` }
					: {
							SMTP_HOST: "127.0.0.1",
							SMTP_PORT: String(relay.port),
							SMTP_USER: "mailer",
							SMTP_PASS: "relay-password",
						};
			const server = await started({
				...noResend,
				...settings,
				PUBLIC_URL: PUBLIC,
				MAIL_FROM: "CODITECT <licenses@example.test>",
			});
			const email = `smtp-${crypto.randomUUID().slice(0, 8)}@example.test`;
			const signup = await http(`${server.url}/api/v1/auth/signup`, {
				method: "POST",
				json: { email, password: "a fine password", invite_code: await invite(server) },
			});
			expect(signup.status, signup.text).toBe(202);

			const mail = await mailTo(relay.received, email);
			expect(mail).toMatchObject({ from: "licenses@example.test", to: [email], user: "mailer" });
			expect(mail.raw).toMatch(/^Subject: Your CODITECT verification code: \d{6}/m);
			const code = mail.raw.match(/verification code is (\d{6})/)?.[1];
			expect(code, mail.raw).toBeDefined();

			const verify = await http<{ user: { email: string } }>(`${server.url}/api/v1/auth/verify`, {
				method: "POST",
				json: { email, code },
			});
			expect(verify.status, verify.text).toBe(200);
			expect(verify.body.user.email).toBe(email);
		});
	}

	it("refuses to start on malformed SMTP settings, naming the setting and never its value", async () => {
		for (const env of [
			{ SMTP_URL: "http://mailer:hunter2-secret@relay.test" },
			{ SMTP_HOST: "relay.test", SMTP_PORT: "seventy" },
			{ SMTP_HOST: "relay.test", SMTP_USER: "mailer" },
			{ SMTP_PASS: "hunter2-secret" },
		] as Record<string, string>[]) {
			const start = nodeServer({ env: { ...noResend, ...env } });
			await expect(start, JSON.stringify(env)).rejects.toThrow(/invalid settings: SMTP_/);
			await start.catch((err: Error) => expect(err.message).not.toContain("hunter2"));
		}
	});
});

describe("no mail provider", () => {
	it("on a public PUBLIC_URL, the server refuses to start and says which settings to add", async () => {
		const start = nodeServer({ env: { ...noResend, PUBLIC_URL: PUBLIC } });
		await expect(start).rejects.toThrow(
			/no mail provider for PUBLIC_URL https:\/\/license\.example\.test/,
		);
		await expect(start).rejects.toThrow(/SMTP_URL .*RESEND_API_KEY/);
	});

	it("on a loopback PUBLIC_URL (development), the server starts and signup still answers 202", async () => {
		const lines: string[] = [];
		const { startServer } = await import("../../src/server");
		const server = await startServer({
			port: 0,
			dataDir: null,
			log: (l) => lines.push(l),
			env: {
				DATABASE_URL: inject("databaseUrl"),
				// No webhook runs from this server: test/node/webhooks.test.ts runs its own.
				WEBHOOK_DELIVERY_SECONDS: "0",
				LICENSE_SIGNING_KEY: inject("signingKey"),
				LICENSE_KEY_PEPPER: inject("pepper"),
				JWT_SECRET: inject("jwtSecret"),
				ADMIN_TOKEN: inject("adminToken"),
				ENABLE_PILOT_SIGNUP: "true",
			},
		});
		cleanups.push(() => server.close());
		const email = `loop-${crypto.randomUUID().slice(0, 8)}@example.test`;
		const signup = await http(`${server.url}/api/v1/auth/signup`, {
			method: "POST",
			json: { email, password: "a fine password" },
		});
		expect(signup.status, signup.text).toBe(202);
	});
});
