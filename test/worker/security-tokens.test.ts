/**
 * Access-token tampering, inside workerd against GET /api/v1/me: every forged, altered,
 * stale or foreign token is refused with the same 401 body as no token at all. License-token
 * tampering is pinned by test/unit/license-token.test.ts (the verifier is pure code there).
 */
import fc from "fast-check";
import { decodeJwt, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { importJwtSecret, verifyAccessToken } from "../../src/accounts/access-token";
import { decodeBase64Url, encodeBase64Url } from "../../src/kernel/base64url";
import { expectErrorBody, expectSecurityHeaders, withoutRequestId } from "../support/route-checks";
import { ISSUER, type SessionUser, sessionUser } from "../support/sessions";
import { call, createLicense, hardwareId } from "../support/worker-client";

type Header = Record<string, unknown>;

const utf8 = (s: string) => new TextEncoder().encode(s);
const segment = (value: unknown) => encodeBase64Url(utf8(JSON.stringify(value)));
const secret = () => utf8(inject("jwtSecret"));

let user: SessionUser;
let refused: string;

/** GET /api/v1/me with `token`; null when no HTTP client could put it in a header. */
async function me(token: string): Promise<{ status: number; text: string } | null> {
	try {
		new Headers({ authorization: `Bearer ${token}` });
	} catch {
		return null;
	}
	return call("/api/v1/me", { headers: { authorization: `Bearer ${token}` } });
}

/**
 * A flipped token is refused. One that is no longer printable ASCII cannot travel in a header
 * as it is (clients refuse CR/LF/NUL, workerd re-encodes bytes above 0x7e with a warning per
 * request), so the verifier itself is asked; every other one goes over HTTP.
 */
async function refusedAfterFlip(token: string): Promise<boolean> {
	if (/[^\x20-\x7e]/.test(token)) {
		const key = await importJwtSecret(inject("jwtSecret"));
		return (await verifyAccessToken(key, ISSUER, token)) === null;
	}
	const res = await me(token);
	return res !== null && res.status === 401 && withoutRequestId(res.text) === refused;
}

const flipBit = (token: string, i: number, bit: number): string =>
	token.slice(0, i) + String.fromCharCode(token.charCodeAt(i) ^ (1 << bit)) + token.slice(i + 1);

async function expectRefused(token: string, label: string): Promise<void> {
	const res = await me(token);
	if (!res) return;
	expect(res.status, `${label}: ${res.text}`).toBe(401);
	expect(withoutRequestId(res.text), label).toBe(refused);
}

/** Claims as the server issues them for `user`, with `change` applied. */
function claims(change: JWTPayload = {}): JWTPayload {
	const now = Math.floor(Date.now() / 1000);
	const real = decodeJwt(user.accessToken);
	return {
		iss: ISSUER,
		aud: "coditect-api",
		sub: user.id,
		email: user.email,
		sid: real.sid,
		jti: crypto.randomUUID(),
		iat: now - 10,
		exp: now + 600,
		...change,
	};
}

/** Signed with the run's real JWT secret: only the header or claims are wrong. */
function signed(change: JWTPayload = {}, header: Header = {}): Promise<string> {
	return new SignJWT(claims(change))
		.setProtectedHeader({ alg: "HS256", typ: "at+jwt", ...header })
		.sign(secret());
}

beforeAll(async () => {
	user = await sessionUser("tamper");
	const ok = await me(user.accessToken);
	expect(ok?.status, ok?.text).toBe(200);
	const none = await call("/api/v1/me");
	expectErrorBody(none, 401, "UNAUTHORIZED");
	expectSecurityHeaders(none, "/api/v1/me");
	refused = withoutRequestId(none.text);
});

describe("an access token", () => {
	it("is accepted as issued, and also with jku, jwk and kid headers, which are never used", async () => {
		expect((await me(await signed()))?.status).toBe(200);
		const { publicKey } = await generateKeyPair("ES256", { extractable: true });
		const ignored = await signed(
			{},
			{
				kid: "../../../../dev/null",
				jku: "https://evil.test/jwks.json",
				jwk: await exportJWK(publicKey),
			},
		);
		expect((await me(ignored))?.status).toBe(200);
	});

	it("is refused with alg none, in any spelling, with or without a signature", async () => {
		for (const alg of ["none", "None", "NONE", "nOnE"]) {
			const unsigned = `${segment({ alg, typ: "at+jwt" })}.${segment(claims())}`;
			await expectRefused(`${unsigned}.`, `alg ${alg}`);
			await expectRefused(`${unsigned}.${user.accessToken.split(".")[2]}`, `alg ${alg} + old sig`);
		}
	});

	it("is refused when signed with another secret or with the public license key as HMAC secret", async () => {
		const jwks = await call<{ keys: Array<Record<string, string>> }>("/.well-known/jwks.json");
		const jwk = jwks.body.keys[0] ?? {};
		const x = jwk.x ?? "";
		const secrets = [
			utf8("not-the-secret-but-32-characters!"),
			utf8(x),
			decodeBase64Url(x),
			utf8(JSON.stringify(jwk)),
			utf8(`${inject("jwtSecret")} `),
		];
		for (const [i, key] of secrets.entries()) {
			const token = await new SignJWT(claims())
				.setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: jwk.kid ?? "" })
				.sign(key);
			await expectRefused(token, `secret ${i}`);
		}
		for (const alg of ["HS384", "HS512"]) {
			const token = await new SignJWT(claims())
				.setProtectedHeader({ alg, typ: "at+jwt" })
				.sign(secret());
			await expectRefused(token, alg);
		}
	});

	it("is refused when signed with an attacker's RSA, EC or Ed25519 key, even one it carries or points to", async () => {
		for (const alg of ["RS256", "PS256", "ES256", "EdDSA"]) {
			const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
			const jwk = await exportJWK(publicKey);
			for (const header of [
				{},
				{ jwk },
				{ jku: "https://evil.test/.well-known/jwks.json", kid: "evil" },
				{ kid: "' or 1=1 --" },
				{ x5u: "https://evil.test/cert.pem" },
			]) {
				const token = await new SignJWT(claims())
					.setProtectedHeader({ alg, typ: "at+jwt", ...header })
					.sign(privateKey);
				await expectRefused(token, `${alg} ${Object.keys(header).join(",")}`);
			}
		}
	});

	it("is refused when expired, not yet valid, issued in the future, or too old", async () => {
		const now = Math.floor(Date.now() / 1000);
		const cases: Record<string, JWTPayload> = {
			expired: { iat: now - 1000, exp: now - 60 },
			"iat in the future": { iat: now + 600, exp: now + 1500 },
			"iat a minute ahead": { iat: now + 60, exp: now + 900 },
			"nbf in the future": { nbf: now + 600 },
			"older than its lifetime": { iat: now - 7200, exp: now + 600 },
			"exp as a string": { exp: String(now + 600) as unknown as number },
		};
		for (const [label, change] of Object.entries(cases))
			await expectRefused(await signed(change), label);
	});

	it("is refused for another audience, type, issuer, or without its claims", async () => {
		const cases: Array<[string, JWTPayload, Header]> = [
			["aud coditect-cli", { aud: "coditect-cli" }, {}],
			["aud list without us", { aud: ["coditect-cli", "other"] }, {}],
			["typ JWT", {}, { typ: "JWT" }],
			["typ license", {}, { typ: "coditect-license+jwt" }],
			["iss elsewhere", { iss: "http://evil.test" }, {}],
			["no sub", { sub: undefined }, {}],
			["no exp", { exp: undefined }, {}],
			["no iat", { iat: undefined }, {}],
			["no sid", { sid: undefined }, {}],
			["sub not a string", { sub: 42 as unknown as string }, {}],
		];
		for (const [label, change, header] of cases) {
			const body = Object.fromEntries(
				Object.entries(claims(change)).filter(([, v]) => v !== undefined),
			);
			const token = await new SignJWT(body)
				.setProtectedHeader({ alg: "HS256", typ: "at+jwt", ...header })
				.sign(secret());
			await expectRefused(token, label);
		}
	});

	it("is refused with a critical header extension it does not know", async () => {
		// jose will not sign this, so it is signed by hand with the real secret.
		const header = { alg: "HS256", typ: "at+jwt", crit: ["x-evil"], "x-evil": true };
		const input = `${segment(header)}.${segment(claims())}`;
		const key = await crypto.subtle.importKey(
			"raw",
			secret(),
			{ name: "HMAC", hash: "SHA-256" },
			false,
			["sign"],
		);
		const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(input)));
		await expectRefused(`${input}.${encodeBase64Url(mac)}`, "crit");
	});

	it("is refused when correctly signed for a session that does not exist", async () => {
		await expectRefused(await signed({ sid: "rtf_doesnotexist0000000000" }), "unknown session");
	});

	it("is refused when a license token or a refresh token is sent in its place", async () => {
		const { key } = await createLicense();
		const activation = await call<{ token: string }>("/api/v1/licenses/activate", {
			json: { license_key: key, hardware_id: hardwareId() },
		});
		expect(activation.status, activation.text).toBe(201);
		await expectRefused(activation.body.token, "license token");
		await expectRefused(user.refreshToken, "refresh token");
		await expectRefused(`${user.accessToken}.${user.accessToken}`, "two tokens");
		await expectRefused(`${user.accessToken}${"A".repeat(2100)}`, "over-long");
	});

	it("is refused after any single-bit flip anywhere in it (property)", async () => {
		const token = user.accessToken;
		await fc.assert(
			fc.asyncProperty(fc.nat({ max: token.length * 8 - 1 }), (position) =>
				refusedAfterFlip(flipBit(token, Math.floor(position / 8), position % 8)),
			),
			{ numRuns: 300 },
		);
	});

	it("is refused after every single-bit flip of every character (exhaustive)", async () => {
		const token = user.accessToken;
		const accepted: string[] = [];
		const flips: Array<[number, number]> = [];
		for (let i = 0; i < token.length; i++) for (let bit = 0; bit < 8; bit++) flips.push([i, bit]);
		for (let start = 0; start < flips.length; start += 64) {
			await Promise.all(
				flips.slice(start, start + 64).map(async ([i, bit]) => {
					if (!(await refusedAfterFlip(flipBit(token, i, bit)))) accepted.push(`${i}:${bit}`);
				}),
			);
		}
		expect(accepted, "flipped positions that were not refused").toEqual([]);
	});

	it("is refused when truncated at any length", async () => {
		const token = user.accessToken;
		const accepted: number[] = [];
		for (let start = 0; start < token.length; start += 64) {
			await Promise.all(
				Array.from({ length: Math.min(64, token.length - start) }, async (_, k) => {
					const res = await me(token.slice(0, start + k));
					if (res && res.status !== 401) accepted.push(start + k);
				}),
			);
		}
		expect(accepted).toEqual([]);
	});
});
