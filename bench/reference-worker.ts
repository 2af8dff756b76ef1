/**
 * The workerd twin of bench/reference-node.ts: a lean Worker that does exactly validate's
 * required work and nothing else, so validate in workerd can be measured against the same
 * work done without our stack. One `fetch` handler; JSON.parse, the same field checks and
 * mod-37 key check, the same rate-limiter Durable Object call (our RateLimiterObject class,
 * so the Durable Object's cost is on both sides and the ratio measures the Worker's code),
 * HMAC-SHA-256 with the pepper through WebCrypto, postgres.js with the same per-request
 * client settings running our exact validate statement prepared, the same Ed25519 compact
 * JWS (WebCrypto) and response shape, the six security headers. Bundled by
 * bench/validate-reference-workerd.ts with esbuild.
 */
import postgres from "postgres";
import { parseLicenseKey } from "../src/kernel/license-key";
import { VALIDATE_SQL } from "../src/licenses/validation-sql";

export { RateLimiterObject } from "../src/workers/rate-limiter-object";

interface Env {
	HYPERDRIVE: { connectionString: string };
	RATE_LIMITER: DurableObjectNamespace<
		import("../src/workers/rate-limiter-object").RateLimiterObject
	>;
	LICENSE_SIGNING_KEY: string;
	LICENSE_KEY_PEPPER: string;
	PUBLIC_URL: string;
}

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
const utf8 = new TextEncoder();

/** Keys imported once per isolate, as our config is. */
let keys: Promise<{ pepper: CryptoKey; signing: CryptoKey; header: string }> | null = null;
function keysOf(env: Env) {
	keys ??= (async () => {
		const jwk = JSON.parse(env.LICENSE_SIGNING_KEY) as JsonWebKey & { kid: string };
		const pepper = await crypto.subtle.importKey(
			"raw",
			utf8.encode(env.LICENSE_KEY_PEPPER),
			{ name: "HMAC", hash: "SHA-256" },
			false,
			["sign"],
		);
		const signing = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]);
		const header = b64url(
			utf8.encode(JSON.stringify({ alg: "EdDSA", typ: "coditect-license+jwt", kid: jwk.kid })),
		);
		return { pepper, signing, header };
	})();
	return keys;
}

function b64url(bytes: Uint8Array): string {
	let s = "";
	for (const b of bytes) s += String.fromCharCode(b);
	return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hex(bytes: Uint8Array): string {
	let s = "";
	for (const b of bytes) s += b.toString(16).padStart(2, "0");
	return s;
}

const send = (status: number, body: unknown) =>
	new Response(JSON.stringify(body), { status, headers: HEADERS });
const fail = (status: number, code: string) => send(status, { error: { code, message: code } });

export default {
	async fetch(req: Request, env: Env): Promise<Response> {
		let body: unknown;
		try {
			body = JSON.parse(await req.text());
		} catch {
			return fail(400, "INVALID_JSON");
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
			return fail(400, "INVALID_REQUEST");
		const parsed = parseLicenseKey(lk);
		if (!parsed.ok) return fail(400, "INVALID_REQUEST");
		const limiter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`validate:${parsed.key}`));
		if (!(await limiter.hit(60, 60)).allowed) return fail(429, "RATE_LIMITED");
		const k = await keysOf(env);
		const keyHash = hex(
			new Uint8Array(await crypto.subtle.sign("HMAC", k.pepper, utf8.encode(parsed.key))),
		);
		const sql = postgres(env.HYPERDRIVE.connectionString, {
			max: 5,
			fetch_types: false,
			connect_timeout: 5,
			idle_timeout: 30,
			onnotice: () => {},
		});
		const ip = req.headers.get("cf-connecting-ip");
		const ua = req.headers.get("user-agent");
		const id = new Uint8Array(16);
		crypto.getRandomValues(id);
		const rows = await sql.unsafe(VALIDATE_SQL, [keyHash, hw, `aud_${hex(id)}`, ip, ua], {
			prepare: true,
		});
		const r = rows[0] as Record<string, unknown> | undefined;
		if (!r || r.id === null) {
			return send(200, { valid: false, code: "NOT_FOUND", license: null, token: null });
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
			const jti = new Uint8Array(16);
			crypto.getRandomValues(jti);
			const claims = {
				iss: env.PUBLIC_URL,
				aud: "coditect-cli",
				sub: r.id,
				jti: b64url(jti),
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
			const input = `${k.header}.${b64url(utf8.encode(JSON.stringify(claims)))}`;
			const sig = await crypto.subtle.sign("Ed25519", k.signing, utf8.encode(input));
			token = `${input}.${b64url(new Uint8Array(sig))}`;
		}
		return send(200, { valid, code: r.code, license, token });
	},
};
