import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, inject, it } from "vitest";
import { auditActions, sql } from "../support/database";
import {
	bearer,
	call,
	mailsTo,
	mintInvite,
	newUser,
	randomEmail,
	randomIp,
	type Session,
	verificationCode,
} from "../support/worker-client";

type Json = Record<string, unknown>;
const login = (email: string, password: string, path = "/api/v1/auth/login") =>
	call<Session & { error?: Json }>(path, { json: { email, password }, ip: randomIp() });
const refresh = (token: string) =>
	call<Session & { error?: Json }>("/api/v1/auth/refresh", { json: { refresh_token: token } });
/** The error body with the per-request id blanked: what must be identical across failures. */
const withoutRequestId = (text: string) => text.replace(/"request_id":"[^"]*"/, '"request_id":"-"');

describe("a new user", () => {
	it("signs up, reads the mailed code, verifies, logs in, refreshes, sees their licenses and logs out", async () => {
		const email = randomEmail("happy");
		const password = "pässwörd with ünïcode ✓";
		const signup = await call("/api/v1/auth/signup", {
			json: { email, password, invite_code: await mintInvite() },
			ip: randomIp(),
		});
		expect(signup.status, signup.text).toBe(202);
		expect(signup.body).toEqual({ status: "verification_sent" });
		expect(signup.headers.get("cache-control")).toBe("no-store");

		const code = await verificationCode(email);
		const verified = await call<Session>("/api/v1/auth/verify", { json: { email, code } });
		expect(verified.status, verified.text).toBe(200);
		expect(verified.body).toMatchObject({
			token_type: "Bearer",
			expires_in: 900,
			refresh_expires_in: 7_776_000,
			user: { email },
		});
		expect(verified.body.user.id).toMatch(/^usr_/);

		const session = await login(email, password);
		expect(session.status, session.text).toBe(200);
		const header = decodeProtectedHeader(session.body.access_token);
		expect(header).toMatchObject({ alg: "HS256", typ: "at+jwt" });
		expect(decodeJwt(session.body.access_token)).toMatchObject({
			sub: verified.body.user.id,
			aud: "coditect-api",
			iss: "http://license.test",
		});
		expect(session.body.refresh_token).toMatch(/^cdr_[A-Za-z0-9_-]{43}$/);

		const rotated = await refresh(session.body.refresh_token);
		expect(rotated.status, rotated.text).toBe(200);
		expect(rotated.body.refresh_token).not.toBe(session.body.refresh_token);
		expect(rotated.body.refresh_expires_in).toBeLessThanOrEqual(7_776_000);

		const me = await call<{ user: Json; licenses: unknown[] }>("/api/v1/me", {
			headers: bearer(rotated.body.access_token),
		});
		expect(me.status, me.text).toBe(200);
		expect(me.body).toEqual({ user: { id: verified.body.user.id, email }, licenses: [] });

		const out = await call("/api/v1/auth/logout", {
			json: { refresh_token: rotated.body.refresh_token },
			headers: bearer(rotated.body.access_token),
		});
		expect(out.status, out.text).toBe(204);
		expect((await refresh(rotated.body.refresh_token)).status).toBe(401);
		// The access token's session is gone too.
		expect((await call("/api/v1/me", { headers: bearer(rotated.body.access_token) })).status).toBe(
			401,
		);

		const actions = (await auditActions(verified.body.user.id)).map((a) => a.action);
		expect(actions).toEqual(expect.arrayContaining(["verify", "login", "logout"]));
	});

	it("gets the same 202 and a different mail when the address already has an account", async () => {
		const { email } = await newUser();
		const res = await call("/api/v1/auth/signup", {
			json: { email, password: "another password", invite_code: await mintInvite() },
			ip: randomIp(),
		});
		const fresh = await call("/api/v1/auth/signup", {
			json: { email: randomEmail(), password: "another password", invite_code: await mintInvite() },
			ip: randomIp(),
		});
		expect(res.status).toBe(202);
		expect(res.text).toBe(fresh.text);
		const mails = await mailsTo(email, 2);
		expect(mails.at(-1)?.subject).toMatch(/already have/);
		expect(mails.at(-1)?.text).not.toMatch(/\b\d{6}\b/);
	});

	it("is also served at the seed's unprefixed /auth/signup and /auth/login", async () => {
		const email = randomEmail("seed");
		const signup = await call("/auth/signup", {
			json: { email, password: "seed password", invite_code: await mintInvite() },
			ip: randomIp(),
		});
		expect(signup.status, signup.text).toBe(202);
		await call("/api/v1/auth/verify", { json: { email, code: await verificationCode(email) } });
		expect((await login(email, "seed password", "/auth/login")).status).toBe(200);
	});

	it("claims a license an operator granted to the address before it had an account", async () => {
		const email = randomEmail("granted");
		const grant = await call<{ license: { id: string } }>("/api/v1/admin/licenses", {
			json: { plan: "starter", owner_email: email },
			admin: true,
		});
		const { session } = await newUser(email);
		const mine = await call<{ licenses: Array<{ id: string }> }>("/api/v1/licenses", {
			headers: bearer(session.access_token),
		});
		expect(mine.body.licenses.map((l) => l.id)).toEqual([grant.body.license.id]);
	});
});

describe("signup during the pilot", () => {
	it("needs an invite: none, an unknown one, or a used one answer 403 INVITE_REQUIRED", async () => {
		const email = randomEmail();
		const none = await call<{ error: Json }>("/api/v1/auth/signup", {
			json: { email, password: "a fine password" },
			ip: randomIp(),
		});
		expect(none.status, none.text).toBe(403);
		expect(none.body.error.code).toBe("INVITE_REQUIRED");
		const unknown = await call<{ error: Json }>("/api/v1/auth/signup", {
			json: { email, password: "a fine password", invite_code: "INV-0000-0000-0000-0000" },
			ip: randomIp(),
		});
		expect(unknown.status).toBe(403);

		const invite = await mintInvite();
		await newUserWithInvite(invite);
		const reused = await call<{ error: Json }>("/api/v1/auth/signup", {
			json: { email: randomEmail(), password: "a fine password", invite_code: invite },
			ip: randomIp(),
		});
		expect(reused.status, reused.text).toBe(403);
		expect(reused.body.error.code).toBe("INVITE_REQUIRED");
	});

	it("stores only hashes of invites and caps a batch at 100", async () => {
		const res = await call<{ codes: string[] }>("/api/v1/admin/invites", {
			json: { count: 3 },
			admin: true,
		});
		expect(res.status, res.text).toBe(201);
		expect(res.body.codes).toHaveLength(3);
		for (const code of res.body.codes) expect(code).toMatch(/^INV-[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
		const stored = await sql<{ n: number }>(
			"select count(*)::int as n from invites where code_hash = any($1::text[])",
			[`{${res.body.codes.join(",")}}`],
		);
		expect(stored[0]?.n).toBe(0);
		expect(
			(await call("/api/v1/admin/invites", { json: { count: 101 }, admin: true })).status,
		).toBe(400);
		expect((await call("/api/v1/admin/invites", { json: { count: 1 } })).status).toBe(401);
	});
});

async function newUserWithInvite(invite: string): Promise<void> {
	const email = randomEmail();
	await call("/api/v1/auth/signup", {
		json: { email, password: "a fine password", invite_code: invite },
		ip: randomIp(),
	});
	const res = await call("/api/v1/auth/verify", {
		json: { email, code: await verificationCode(email) },
	});
	if (res.status !== 200) throw new Error(res.text);
}

describe("verification codes", () => {
	async function pending(): Promise<{ email: string; code: string }> {
		const email = randomEmail("code");
		await call("/api/v1/auth/signup", {
			json: { email, password: "a fine password", invite_code: await mintInvite() },
			ip: randomIp(),
		});
		return { email, code: await verificationCode(email) };
	}
	const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

	it("refuse a wrong code with 400 INVALID_CODE and die after 5 wrong tries", async () => {
		const { email, code } = await pending();
		for (let i = 0; i < 5; i++) {
			const res = await call<{ error: Json }>("/api/v1/auth/verify", {
				json: { email, code: wrong(code) },
			});
			expect(res.status, res.text).toBe(400);
			expect(res.body.error.code).toBe("INVALID_CODE");
		}
		const right = await call<{ error: Json }>("/api/v1/auth/verify", { json: { email, code } });
		expect(right.status, right.text).toBe(400);
		expect(right.body.error.code).toBe("INVALID_CODE");
	});

	it("expire after 15 minutes", async () => {
		const { email, code } = await pending();
		await sql(
			"update verification_codes set expires_at = now() - interval '1 second' where email = $1",
			[email],
		);
		const res = await call<{ error: Json }>("/api/v1/auth/verify", { json: { email, code } });
		expect(res.status, res.text).toBe(400);
		expect(res.body.error.code).toBe("INVALID_CODE");
	});

	it("of a repeated signup each set the password chosen with them; verifying one ends the others", async () => {
		// The address's owner signs up; someone else then signs up with the same address and
		// a password of their own. The owner's code must still work, with the owner's password.
		const email = randomEmail("twice");
		const signup = async (password: string) =>
			call("/api/v1/auth/signup", {
				json: { email, password, invite_code: await mintInvite() },
				ip: randomIp(),
			});
		expect((await signup("the owner's password")).status).toBe(202);
		const owners = await verificationCode(email, 1);
		expect((await signup("someone else's password")).status).toBe(202);
		const others = await verificationCode(email, 2);
		const pending = await sql<{ n: number }>(
			"select count(*)::int as n from verification_codes where email = $1",
			[email],
		);
		expect(pending[0]?.n).toBe(owners === others ? 1 : 2);
		if (owners === others) return; // one in a million: the second signup drew the same digits
		expect((await call("/api/v1/auth/verify", { json: { email, code: owners } })).status).toBe(200);
		expect((await login(email, "the owner's password")).status).toBe(200);
		expect((await login(email, "someone else's password")).status).toBe(401);
		expect((await call("/api/v1/auth/verify", { json: { email, code: others } })).status).toBe(400);
	});

	it("of a repeated signup: the later code works too, and a wrong try counts against all", async () => {
		const { email, code: first } = await pending();
		await call("/api/v1/auth/signup", {
			json: { email, password: "the later password", invite_code: await mintInvite() },
			ip: randomIp(),
		});
		const second = await verificationCode(email, 2);
		if (second === first) return;
		const taken = new Set([first, second]);
		let guess = 0;
		const wrongGuess = () => {
			while (taken.has(String(guess).padStart(6, "0"))) guess++;
			return String(guess++).padStart(6, "0");
		};
		for (let i = 0; i < 4; i++) {
			expect(
				(await call("/api/v1/auth/verify", { json: { email, code: wrongGuess() } })).status,
			).toBe(400);
		}
		const attempts = await sql<{ attempts: number }>(
			"select attempts from verification_codes where email = $1",
			[email],
		);
		expect(attempts.map((r) => r.attempts)).toEqual([4, 4]);
		expect((await call("/api/v1/auth/verify", { json: { email, code: second } })).status).toBe(200);
		expect((await login(email, "the later password")).status).toBe(200);
	});

	it("keep at most the newest 3 per address", async () => {
		const { email } = await pending();
		for (let i = 0; i < 4; i++) {
			await call("/api/v1/auth/signup", {
				json: { email, password: `password number ${i}`, invite_code: await mintInvite() },
				ip: randomIp(),
			});
		}
		const codes = await sql<{ n: number }>(
			"select count(*)::int as n from verification_codes where email = $1",
			[email],
		);
		expect(codes[0]?.n).toBeLessThanOrEqual(3);
		expect(codes[0]?.n).toBeGreaterThanOrEqual(2);
		// The newest works.
		const newest = await verificationCode(email, 5);
		expect((await call("/api/v1/auth/verify", { json: { email, code: newest } })).status).toBe(200);
		expect((await login(email, "password number 3")).status).toBe(200);
	});

	it("leave no account behind: an unverified signup cannot log in", async () => {
		const { email } = await pending();
		expect((await login(email, "a fine password")).status).toBe(401);
	});
});

describe("login failures", () => {
	it("answer unknown email, wrong password, locked and unverified with byte-identical 401 bodies", async () => {
		const { email, password } = await newUser();
		const unverified = randomEmail("unverified");
		await call("/api/v1/auth/signup", {
			json: { email: unverified, password, invite_code: await mintInvite() },
			ip: randomIp(),
		});
		const locked = await newUser();
		await sql("update users set locked_until = now() + interval '15 minutes' where email = $1", [
			locked.email,
		]);

		const answers = [
			await login(randomEmail("nobody"), password),
			await login(email, "wrong password!"),
			await login(locked.email, locked.password),
			await login(unverified, password),
		];
		for (const res of answers) {
			expect(res.status, res.text).toBe(401);
			expect(res.body.error?.code).toBe("INVALID_CREDENTIALS");
		}
		const bodies = new Set(answers.map((r) => withoutRequestId(r.text)));
		expect([...bodies]).toHaveLength(1);
		const headerNames = new Set(answers.map((r) => [...r.headers.keys()].sort().join(",")));
		expect([...headerNames]).toHaveLength(1);
	});

	it("lock the account after 5 failures from different addresses, for 15 minutes, and mail the owner", async () => {
		const { email, password, session } = await newUser();
		for (let i = 0; i < 5; i++)
			expect((await login(email, `wrong-${i}-password`)).status).toBe(401);
		expect((await login(email, password)).status).toBe(401);
		const actions = await auditActions(session.user.id);
		expect(actions.filter((a) => a.action === "failed_login").length).toBeGreaterThanOrEqual(6);
		expect(actions.filter((a) => a.action === "lockout")).toHaveLength(1);
		const mails = await mailsTo(email, 2);
		expect(mails.some((m) => /paused/.test(m.subject))).toBe(true);

		// 15 minutes later (moved, not waited for) the right password works again.
		await sql("update users set locked_until = now() - interval '1 second' where email = $1", [
			email,
		]);
		expect((await login(email, password)).status).toBe(200);
	});

	it("count every one of 5 concurrent failures (no lost updates)", async () => {
		const { email, password, session } = await newUser();
		const attempts = Array.from(
			{ length: 5 },
			(_, i) => () => login(email, `concurrent-wrong-${i}`),
		);
		// The embedded database (PGlite) is one backend whose socket server interleaves
		// statements of concurrent connections ("portal does not exist"), so there the attempts go
		// one by one; against real Postgres (TEST_DATABASE_URL, as CI runs it) they race.
		const results =
			inject("databaseKind") === "postgres"
				? await Promise.all(attempts.map((a) => a()))
				: await sequential(attempts);
		expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
		expect((await login(email, password)).status).toBe(401);
		const lockouts = (await auditActions(session.user.id)).filter((a) => a.action === "lockout");
		expect(lockouts).toHaveLength(1);
	});

	it("are limited to 5 per minute per address with 429", async () => {
		const ip = randomIp();
		const statuses: number[] = [];
		for (let i = 0; i < 6; i++) {
			const res = await call("/api/v1/auth/login", {
				json: { email: randomEmail(), password: "whatever pw" },
				ip,
			});
			statuses.push(res.status);
		}
		expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
	});

	it("limits signup to 3 per minute per address", async () => {
		const ip = randomIp();
		const statuses: number[] = [];
		for (let i = 0; i < 4; i++) {
			const res = await call("/api/v1/auth/signup", {
				json: { email: randomEmail(), password: "whatever pw", invite_code: "INV-NOPE" },
				ip,
			});
			statuses.push(res.status);
		}
		expect(statuses).toEqual([403, 403, 403, 429]);
	});
});

async function sequential<T>(tasks: Array<() => Promise<T>>): Promise<T[]> {
	const out: T[] = [];
	for (const task of tasks) out.push(await task());
	return out;
}

describe("refresh tokens", () => {
	it("rotate on every use; replaying a rotated one revokes the whole family and is audited", async () => {
		const { session } = await newUser();
		const second = await refresh(session.refresh_token);
		expect(second.status).toBe(200);
		const third = await refresh(second.body.refresh_token);
		expect(third.status).toBe(200);

		const replay = await refresh(session.refresh_token);
		expect(replay.status, replay.text).toBe(401);
		// The newest token of the family is dead too, and so is its access token.
		expect((await refresh(third.body.refresh_token)).status).toBe(401);
		expect((await call("/api/v1/me", { headers: bearer(third.body.access_token) })).status).toBe(
			401,
		);
		const reuse = (await auditActions(session.user.id)).filter((a) => a.action === "refresh_reuse");
		expect(reuse).toHaveLength(1);
	});

	it("give at most one new session to two concurrent refreshes with one token", async () => {
		const { session } = await newUser();
		const results = await Promise.all([
			refresh(session.refresh_token),
			refresh(session.refresh_token),
		]);
		const ok = results.filter((r) => r.status === 200);
		expect(ok.length, results.map((r) => r.text).join("\n")).toBeLessThanOrEqual(1);
		expect(results.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(1);
	});

	it("also answer at the older /api/v1/auth/oauth/refresh path", async () => {
		const { session } = await newUser();
		const res = await call<Session>("/api/v1/auth/oauth/refresh", {
			json: { refresh_token: session.refresh_token },
		});
		expect(res.status, res.text).toBe(200);
	});

	it("refuse garbage, unknown and expired tokens with 401", async () => {
		const { session } = await newUser();
		expect((await refresh("not-a-token")).status).toBe(401);
		expect((await refresh(`cdr_${"A".repeat(43)}`)).status).toBe(401);
		await sql(
			"update refresh_tokens set expires_at = now() - interval '1 second' where user_id = $1",
			[session.user.id],
		);
		expect((await refresh(session.refresh_token)).status).toBe(401);
	});

	it("are kept only as hashes", async () => {
		const { session } = await newUser();
		const rows = await sql<{ token_hash: string }>(
			"select token_hash from refresh_tokens where user_id = $1",
			[session.user.id],
		);
		expect(rows.length).toBe(1);
		expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(JSON.stringify(rows)).not.toContain(session.refresh_token.slice(4));
	});
});

describe("access tokens", () => {
	const key = () => new TextEncoder().encode(inject("jwtSecret"));
	async function forge(
		session: Session,
		change: { typ?: string; aud?: string; iss?: string; exp?: number; alg?: "HS256" | "HS384" },
	): Promise<string> {
		const claims = decodeJwt(session.access_token);
		const now = Math.floor(Date.now() / 1000);
		return new SignJWT({ email: claims.email, sid: claims.sid })
			.setProtectedHeader({ alg: change.alg ?? "HS256", typ: change.typ ?? "at+jwt" })
			.setIssuer(change.iss ?? "http://license.test")
			.setAudience(change.aud ?? "coditect-api")
			.setSubject(String(claims.sub))
			.setIssuedAt(now - 10)
			.setExpirationTime(change.exp ?? now + 600)
			.sign(key());
	}

	it("are refused when tampered, expired, for another audience or type, or when a refresh token is sent instead", async () => {
		const { session } = await newUser();
		const me = (token: string) => call<{ error: Json }>("/api/v1/me", { headers: bearer(token) });
		expect((await me(await forge(session, {}))).status).toBe(200);

		const [h, p, s] = session.access_token.split(".");
		const tamperedPayload = btoa(
			JSON.stringify({ ...decodeJwt(session.access_token), sub: "usr_someoneelse" }),
		)
			.replace(/=+$/, "")
			.replace(/\+/g, "-")
			.replace(/\//g, "_");
		// The signature's last two characters replaced: by "AA", unless they are "AA" already
		// (1 signature in 1,024), which left the token intact and the test failing.
		const cases = {
			tampered: `${h}.${tamperedPayload}.${s}`,
			badSignature: `${h}.${p}.${s?.slice(0, -2)}${s?.endsWith("AA") ? "BA" : "AA"}`,
			expired: await forge(session, { exp: Math.floor(Date.now() / 1000) - 60 }),
			wrongAudience: await forge(session, { aud: "coditect-cli" }),
			wrongType: await forge(session, { typ: "JWT" }),
			wrongIssuer: await forge(session, { iss: "http://evil.test" }),
			wrongAlgorithm: await forge(session, { alg: "HS384" }),
			refreshToken: session.refresh_token,
			empty: "",
		};
		for (const [name, token] of Object.entries(cases)) {
			const res = await me(token);
			expect(res.status, `${name}: ${res.text}`).toBe(401);
			expect(res.body.error.code).toBe("UNAUTHORIZED");
		}
	});
});

describe("auth input", () => {
	it("rejects unknown fields and out-of-range values with 400 naming the fields", async () => {
		const cases: Array<[string, Json, string]> = [
			[
				"/api/v1/auth/signup",
				{ email: randomEmail(), password: "short", invite_code: "x" },
				"password",
			],
			["/api/v1/auth/signup", { email: randomEmail(), password: "p".repeat(129) }, "password"],
			[
				"/api/v1/auth/signup",
				{ email: `${"a".repeat(250)}@x.io`, password: "long enough" },
				"email",
			],
			["/api/v1/auth/login", { email: "not-an-email", password: "long enough" }, "email"],
			[
				"/api/v1/auth/login",
				{ email: randomEmail(), password: "long enough", admin: true },
				"admin",
			],
			["/api/v1/auth/verify", { email: randomEmail(), code: "12345" }, "code"],
			["/api/v1/auth/refresh", { refresh_token: "x".repeat(300) }, "refresh_token"],
		];
		for (const [path, json, field] of cases) {
			const res = await call<{ error: { code: string; fields: string[] } }>(path, {
				json,
				ip: randomIp(),
			});
			expect(res.status, `${path} ${res.text}`).toBe(400);
			expect(res.body.error.fields).toContain(field);
			expect(res.text).not.toContain("long enough");
		}
	});

	it("requires a bearer token for logout", async () => {
		const res = await call("/api/v1/auth/logout", { json: { refresh_token: "cdr_x" } });
		expect(res.status).toBe(401);
	});
});
