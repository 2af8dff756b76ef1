/** Calls the Worker under test (inside workerd) the way a client would. */
import { exports } from "cloudflare:workers";
import { inject } from "vitest";

export interface ApiResponse<T = Record<string, unknown>> {
	status: number;
	headers: Headers;
	body: T;
	text: string;
}

export interface CallOptions {
	method?: string;
	json?: unknown;
	body?: BodyInit;
	headers?: Record<string, string>;
	admin?: boolean;
	ip?: string;
	/** "manual" to see a redirect instead of following it. */
	redirect?: RequestRedirect;
}

export async function call<T = Record<string, unknown>>(
	path: string,
	opts: CallOptions = {},
): Promise<ApiResponse<T>> {
	const headers = new Headers(opts.headers);
	let body = opts.body;
	if (opts.json !== undefined) {
		body = JSON.stringify(opts.json);
		if (!headers.has("content-type")) headers.set("content-type", "application/json");
	}
	if (opts.admin) headers.set("authorization", `Bearer ${inject("adminToken")}`);
	headers.set("cf-connecting-ip", opts.ip ?? "203.0.113.7");
	const res = await (exports as unknown as { default: Fetcher }).default.fetch(
		new Request(`http://license.test${path}`, {
			method: opts.method ?? (body === undefined ? "GET" : "POST"),
			headers,
			body,
			redirect: opts.redirect ?? "follow",
		}),
	);
	const text = await res.text();
	let parsed: unknown = null;
	try {
		parsed = JSON.parse(text);
	} catch {}
	return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export function hardwareId(label: string = crypto.randomUUID()): string {
	return Array.from(new TextEncoder().encode(label.padEnd(32, "x").slice(0, 32)), (b) =>
		b.toString(16).padStart(2, "0"),
	).join("");
}

/** A fresh license through the operator route; returns its key and id. */
export async function createLicense(
	fields: Record<string, unknown> = {},
): Promise<{ key: string; id: string }> {
	const res = await call<{ license_key: string; license: { id: string } }>(
		"/api/v1/admin/licenses",
		{
			json: { plan: "professional", ...fields },
			admin: true,
		},
	);
	if (res.status !== 201) throw new Error(`create license failed: ${res.status} ${res.text}`);
	return { key: res.body.license_key, id: res.body.license.id };
}

/** A fresh documentation-range address, so per-IP limits (login 5/min, signup 3/min) never bite across tests. */
/**
 * A client address no other test uses: a unique-local IPv6 address with 56 random bits in its
 * /64, the rate-limit bucket, so per-address limits of one test never see another's calls. (A
 * random IPv4 from a /16 collided now and then across the suite's hundreds of calls.)
 */
export function randomIp(): string {
	const [a = 0, b = 0, c = 0, d = 0] = crypto.getRandomValues(new Uint16Array(4));
	const hex = (n: number) => n.toString(16);
	return `fd${hex(a & 0xff).padStart(2, "0")}:${hex(b)}:${hex(c)}:${hex(d)}::7`;
}

export function randomEmail(label = "user"): string {
	return `${label}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}

export interface Session {
	token_type: string;
	access_token: string;
	expires_in: number;
	refresh_token: string;
	refresh_expires_in: number;
	user: { id: string; email: string };
}

/** One single-use invite through the operator route. */
export async function mintInvite(): Promise<string> {
	const res = await call<{ codes: string[] }>("/api/v1/admin/invites", {
		json: { count: 1 },
		admin: true,
	});
	const code = res.body.codes?.[0];
	if (res.status !== 201 || !code) throw new Error(`invite failed: ${res.status} ${res.text}`);
	return code;
}

export interface RecordedMail {
	to: string;
	subject: string;
	text: string;
	at: number;
}

/** Mails the fake Resend endpoint received for `to` (they are sent after the response). */
export async function mailsTo(to: string, atLeast = 1): Promise<RecordedMail[]> {
	for (let i = 0; i < 100; i++) {
		const res = await fetch(`${inject("oauthIssuer")}/_test/mails?to=${encodeURIComponent(to)}`);
		const { mails } = (await res.json()) as { mails: RecordedMail[] };
		if (mails.length >= atLeast) return mails;
		await new Promise((r) => setTimeout(r, 50));
	}
	return [];
}

/** The 6-digit code in the latest verification mail to `to`. */
export async function verificationCode(to: string, atLeast = 1): Promise<string> {
	const mails = await mailsTo(to, atLeast);
	const code = mails.at(-1)?.text.match(/\b(\d{6})\b/)?.[1];
	if (!code) throw new Error(`no verification code mailed to ${to}: ${JSON.stringify(mails)}`);
	return code;
}

/** Signup with a fresh invite, code from the mail, verify: a logged-in new user. */
export async function newUser(
	email = randomEmail(),
	password = "correct horse battery",
): Promise<{ email: string; password: string; session: Session }> {
	const signup = await call("/api/v1/auth/signup", {
		json: { email, password, invite_code: await mintInvite() },
		ip: randomIp(),
	});
	if (signup.status !== 202) throw new Error(`signup failed: ${signup.status} ${signup.text}`);
	const verify = await call<Session>("/api/v1/auth/verify", {
		json: { email, code: await verificationCode(email) },
		ip: randomIp(),
	});
	if (verify.status !== 200) throw new Error(`verify failed: ${verify.status} ${verify.text}`);
	return { email, password, session: verify.body };
}

export function bearer(token: string): Record<string, string> {
	return { authorization: `Bearer ${token}` };
}

/** An operator console session: the cookie POST /admin/login set, and its pages' CSRF token. */
export async function consoleSession(ip = randomIp()): Promise<{ cookie: string; csrf: string }> {
	const login = await call("/admin/login", {
		method: "POST",
		body: new URLSearchParams({ token: inject("adminToken") }).toString(),
		headers: { "content-type": "application/x-www-form-urlencoded" },
		ip,
		redirect: "manual",
	});
	const cookie = login.headers.get("set-cookie")?.split(";")[0];
	if (login.status !== 303 || !cookie) throw new Error(`console login failed: ${login.status}`);
	const page = await call("/admin/invites", { headers: { cookie }, ip });
	const csrf = page.text.match(/name="csrf" value="([^"]+)"/)?.[1];
	if (!csrf) throw new Error(`no CSRF token on the console page: ${page.status}`);
	return { cookie, csrf };
}
