/**
 * Child process of the reference benchmark: a lean server that does exactly validate's
 * required work and nothing else, so validate can be measured against the same work done
 * without our stack. node:http, JSON.parse, the same field checks and mod-37 key check, an
 * in-memory 60/min counter per key, HMAC-SHA-256 with the pepper, postgres.js running our
 * exact validate statement prepared on the same pool size, the same Ed25519 compact JWS and
 * response shape, the six security headers. Prints its URL, then serves until killed.
 */
import { createHmac, createPrivateKey, randomBytes, randomUUID, sign } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { parseLicenseKey } from "../src/kernel/license-key";
import { VALIDATE_SQL } from "../src/licenses/validation-sql";

const url = process.env.DATABASE_URL;
const jwk = JSON.parse(process.env.LICENSE_SIGNING_KEY ?? "null") as JsonWebKey & { kid: string };
const pepper = process.env.LICENSE_KEY_PEPPER ?? "";
const issuer = process.env.PUBLIC_URL ?? "http://127.0.0.1";
if (!url || !jwk || !pepper)
	throw new Error("DATABASE_URL, LICENSE_SIGNING_KEY, LICENSE_KEY_PEPPER");

const sql = postgres(url, { max: Number(process.env.DATABASE_POOL_MAX ?? 20), fetch_types: false });
const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
const header = Buffer.from(
	JSON.stringify({ alg: "EdDSA", typ: "coditect-license+jwt", kid: jwk.kid }),
).toString("base64url");

const HEADERS = {
	"content-type": "application/json",
	"x-content-type-options": "nosniff",
	"x-frame-options": "DENY",
	"strict-transport-security": "max-age=31536000; includeSubDomains",
	"content-security-policy": "default-src 'none'; frame-ancestors 'none'",
	"referrer-policy": "no-referrer",
	"cache-control": "no-store",
};

const HW = /^[A-Za-z0-9._:-]+$/;

/** 60 per key per fixed minute, in memory. */
const counters = new Map<string, { window: number; n: number }>();
function allow(key: string): boolean {
	const window = Math.floor(Date.now() / 60_000);
	const c = counters.get(key);
	if (!c || c.window !== window) {
		counters.set(key, { window, n: 1 });
		return true;
	}
	c.n++;
	return c.n <= 60;
}

/** One write per response: headers and a sized body (no chunked encoding), as ours sends. */
function send(res: import("node:http").ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, { ...HEADERS, "content-length": Buffer.byteLength(text) }).end(text);
}

function fail(res: import("node:http").ServerResponse, status: number, code: string): void {
	send(res, status, { error: { code, message: code } });
}

const server = createServer((req, res) => {
	const chunks: Buffer[] = [];
	req.on("data", (c: Buffer) => chunks.push(c));
	req.on("end", () => {
		let body: unknown;
		try {
			body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
		} catch {
			return fail(res, 400, "INVALID_JSON");
		}
		const b = body as Record<string, unknown>;
		const lk = b?.license_key;
		const hw = b?.hardware_id;
		if (
			typeof b !== "object" ||
			Object.keys(b).length !== 2 ||
			typeof lk !== "string" ||
			lk.length < 1 ||
			lk.length > 50 ||
			typeof hw !== "string" ||
			hw.length < 1 ||
			hw.length > 64 ||
			!HW.test(hw)
		)
			return fail(res, 400, "INVALID_REQUEST");
		const parsed = parseLicenseKey(lk);
		if (!parsed.ok) return fail(res, 400, "INVALID_REQUEST");
		if (!allow(parsed.key)) return fail(res, 429, "RATE_LIMITED");
		const keyHash = createHmac("sha256", pepper).update(parsed.key).digest("hex");
		const ip = req.socket.remoteAddress ?? null;
		const ua = req.headers["user-agent"] ?? null;
		sql
			.unsafe(VALIDATE_SQL, [keyHash, hw, `aud_${randomUUID()}`, ip, ua], { prepare: true })
			.then((rows) => {
				const r = rows[0] as Record<string, unknown> | undefined;
				if (!r || r.id === null) {
					return send(res, 200, { valid: false, code: "NOT_FOUND", license: null, token: null });
				}
				const expires = r.expires_at ? new Date(r.expires_at as string).toISOString() : null;
				const ent = r.entitlements as { features: string[] };
				const license = {
					id: r.id,
					plan: r.plan_id,
					status: r.status,
					expires_at: expires,
					max_activations: r.max_activations,
					key_last4: r.key_last4,
					entitlements: ent,
				};
				const valid = r.code === "VALID";
				let token: string | null = null;
				if (valid) {
					const iat = Math.floor(Date.now() / 1000);
					const claims = {
						iss: issuer,
						aud: "coditect-cli",
						sub: r.id,
						jti: randomBytes(16).toString("base64url"),
						iat,
						nbf: iat,
						exp: iat + 72 * 3600,
						hwid: hw,
						lic: {
							plan: r.plan_id,
							status: r.status,
							expires_at: expires,
							max_activations: r.max_activations,
							entitlements: [...ent.features],
						},
					};
					const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
					token = `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
				}
				send(res, 200, { valid, code: r.code, license, token });
			})
			.catch(() => fail(res, 500, "INTERNAL"));
	});
});
server.listen(0, "127.0.0.1", () => {
	const { port } = server.address() as AddressInfo;
	console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});
process.on("SIGTERM", () => process.exit(0));
