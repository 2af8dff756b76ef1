/**
 * A Worker on a public PUBLIC_URL without RESEND_API_KEY cannot send the signup code, so it
 * refuses signup with 503 MAIL_NOT_CONFIGURED (a Worker cannot refuse to start) instead of
 * answering 202 for a code nobody will ever receive. Everything else keeps working.
 */
import { env as testEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";
import { mintInvite, randomEmail } from "../support/worker-client";

type Env = Record<string, unknown>;

async function callWith(env: Env, path: string, json?: unknown): Promise<Response> {
	const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
	return worker.fetch(
		new Request(`http://license.test${path}`, {
			method: json === undefined ? "GET" : "POST",
			headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.99" },
			body: json === undefined ? null : JSON.stringify(json),
		}),
		env,
		ctx as unknown as ExecutionContext,
	);
}

describe("signup without a mail provider", () => {
	const { RESEND_API_KEY: _key, ...withoutMail } = testEnv as unknown as Env;

	it("answers 503 MAIL_NOT_CONFIGURED on a public PUBLIC_URL and stores no code", async () => {
		const email = randomEmail("nomail");
		for (const path of ["/api/v1/auth/signup", "/auth/signup"]) {
			const res = await callWith(withoutMail, path, {
				email,
				password: "a fine password",
				invite_code: await mintInvite(),
			});
			const body = (await res.json()) as { error: { code: string; message: string } };
			expect(res.status, JSON.stringify(body)).toBe(503);
			expect(body.error.code).toBe("MAIL_NOT_CONFIGURED");
			expect(body.error.message).toMatch(/cannot send email/);
		}
		// The rest of the server is fine.
		expect((await callWith(withoutMail, "/healthz")).status).toBe(200);
	});

	it("still takes signups on a loopback PUBLIC_URL (the code goes to the log)", async () => {
		const res = await callWith(
			{ ...withoutMail, PUBLIC_URL: "http://127.0.0.1:8787" },
			"/api/v1/auth/signup",
			{
				email: randomEmail("loopback"),
				password: "a fine password",
				invite_code: await mintInvite(),
			},
		);
		expect(res.status, await res.clone().text()).toBe(202);
	});
});
