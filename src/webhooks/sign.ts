/**
 * The `Coditect-Signature` header, in Stripe's shape so receivers know it on sight:
 * `t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>.<body>">[,v1=…]`, one v1 per live secret.
 * During a secret rotation both secrets are live, so a receiver holding either one verifies.
 * WebCrypto only: the same code signs on Workers and on Node.
 */
import { hmacHex } from "../keyed-hash";

export const SIGNATURE_HEADER = "Coditect-Signature";
/** How far a receiver lets `t` drift from its clock (replay window), unless told otherwise. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

function hmacKey(secret: string): Promise<CryptoKey> {
	return crypto.subtle.importKey(
		"raw",
		encoder.encode(secret),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
}

async function v1(secret: string, timestamp: number, body: string): Promise<string> {
	return hmacHex(await hmacKey(secret), `${timestamp}.${body}`);
}

/** The header value for `body` at `timestamp` (unix seconds) under each of `secrets`. */
export async function signatureHeader(
	secrets: readonly string[],
	body: string,
	timestamp: number = Math.floor(Date.now() / 1000),
): Promise<string> {
	if (secrets.length === 0) throw new Error("signatureHeader: no secret to sign with");
	const parts = [`t=${timestamp}`];
	for (const secret of secrets) parts.push(`v1=${await v1(secret, timestamp, body)}`);
	return parts.join(",");
}

export type VerifyResult =
	| { ok: true; timestamp: number }
	| { ok: false; reason: "malformed" | "stale" | "mismatch" };

/**
 * For receivers: does `header` carry a v1 under `secret` for exactly `body` (the raw bytes as
 * received, before any JSON parsing), with `t` within `toleranceSeconds` of `now`?
 */
export async function verifySignature(
	secret: string,
	body: string,
	header: string | null | undefined,
	opts: { toleranceSeconds?: number; now?: number } = {},
): Promise<VerifyResult> {
	if (!header) return { ok: false, reason: "malformed" };
	let timestamp: number | null = null;
	const candidates: string[] = [];
	for (const part of header.split(",")) {
		const eq = part.indexOf("=");
		if (eq < 0) continue;
		const key = part.slice(0, eq).trim();
		const value = part.slice(eq + 1).trim();
		if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
		else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
	}
	if (timestamp === null || candidates.length === 0) return { ok: false, reason: "malformed" };
	const now = opts.now ?? Math.floor(Date.now() / 1000);
	if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
		return { ok: false, reason: "stale" };
	}
	const expected = await v1(secret, timestamp, body);
	// Compare every candidate in full: no early exit on the first differing byte.
	let match = false;
	for (const candidate of candidates) if (constantTimeEqual(candidate, expected)) match = true;
	return match ? { ok: true, timestamp } : { ok: false, reason: "mismatch" };
}

function constantTimeEqual(a: string, b: string): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
	return diff === 0;
}

/** A new endpoint secret: 32 random bytes, hex, prefixed so a leaked one is recognisable. */
export function newWebhookSecret(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(32));
	let hex = "";
	for (const b of bytes) hex += b.toString(16).padStart(2, "0");
	return `whsec_${hex}`;
}
