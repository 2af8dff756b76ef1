/**
 * License keys: `CDT-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX`.
 *
 * The 27 symbols after the prefix are 26 random Crockford base32 symbols (130 bits) and one
 * check symbol. The check is Crockford's own: the 130-bit number the 26 symbols spell,
 * modulo 37. Crockford writes the values 32–36 as `* ~ $ = U`, which are awkward to read
 * out or type, so generation draws again until the check value is below 32 and the check
 * symbol is an ordinary base32 symbol (on average 1.16 draws). That keeps
 * 26·5 − log2(37/32) ≈ 129.8 bits of randomness, above the 128 the spec asks for, and
 * every key still passes a stock Crockford mod-37 check.
 *
 * Why mod 37 rather than a sum mod 32: with a modulus of 32 no set of weights catches both
 * every substitution (each weight must be odd, i.e. invertible) and every adjacent
 * transposition (neighbouring weights must differ by an odd number), so a mod-32 check
 * misses some typos. 37 is prime and exceeds every symbol difference (at most 31), so:
 *  - a substituted data symbol changes the number by (a − b)·32^k, never 0 mod 37;
 *  - swapping neighbours changes it by (a − b)·32^k·31, never 0 mod 37;
 *  - a substituted check symbol no longer equals the unchanged value;
 *  - swapping the last data symbol with the check symbol c turns the check equation
 *    into 2c − d ≡ d, i.e. c = d, which is no swap at all.
 * test/unit/license-key.test.ts checks all of these exhaustively.
 */

import { encodeUtf8 } from "./base64url";

/** Crockford base32, value = index. No I, L, O, U. */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const PREFIX = "CDT";
const DATA_SYMBOLS = 26;
const GROUP_SIZE = 9;
const CHECK_MODULUS = 37;
const DASH = 0x2d;

/** Longest input `parseLicenseKey` looks at (docs/api.md §3: license key ≤ 50 chars). */
export const LICENSE_KEY_MAX_INPUT_LENGTH = 50;

/**
 * The canonical form only (upper case, dashed groups). It does not check the check symbol:
 * use `parseLicenseKey` for that.
 */
export const LICENSE_KEY_PATTERN: RegExp =
	/^CDT-[0-9A-HJKMNP-TV-Z]{9}-[0-9A-HJKMNP-TV-Z]{9}-[0-9A-HJKMNP-TV-Z]{9}$/;

/** ASCII code → symbol value, folding lower case and Crockford's aliases I, L → 1 and O → 0. */
const DECODE_TABLE: Int8Array = buildDecodeTable();

function buildDecodeTable(): Int8Array {
	const table = new Int8Array(128).fill(-1);
	for (let value = 0; value < CROCKFORD.length; value++) {
		const symbol = CROCKFORD.charAt(value);
		table[symbol.charCodeAt(0)] = value;
		table[symbol.toLowerCase().charCodeAt(0)] = value;
	}
	for (const alias of "IiLl") table[alias.charCodeAt(0)] = 1;
	for (const alias of "Oo") table[alias.charCodeAt(0)] = 0;
	return table;
}

/**
 * Separators people type or paste between groups: ASCII space and hyphen, any Unicode
 * white space (NBSP from e-mail) and the Unicode dashes word processors substitute for "-".
 * Like Crockford's hyphens they are ignored wherever they appear.
 */
const SEPARATORS = /[\s\u2010-\u2015\u2212-]/g;

/** Crockford's check: the base-32 number the symbols spell, mod 37 (Horner, no bigints). */
function checkValue(values: ArrayLike<number>): number {
	let remainder = 0;
	for (let i = 0; i < values.length; i++) {
		remainder = (remainder * 32 + (values[i] ?? 0)) % CHECK_MODULUS;
	}
	return remainder;
}

function formatKey(values: ArrayLike<number>): string {
	let symbols = "";
	for (let i = 0; i < values.length; i++) symbols += CROCKFORD.charAt(values[i] ?? 0);
	const groups: string[] = [];
	for (let i = 0; i < symbols.length; i += GROUP_SIZE) {
		groups.push(symbols.slice(i, i + GROUP_SIZE));
	}
	return `${PREFIX}-${groups.join("-")}`;
}

/**
 * Creates a new license key from 130 bits of `crypto.getRandomValues`, in canonical form
 * (`CDT-` and three dashed groups of 9, 33 characters).
 */
export function generateLicenseKey(): string {
	const random = new Uint8Array(DATA_SYMBOLS);
	const values = new Uint8Array(DATA_SYMBOLS + 1);
	// Only a broken random source could get here 64 times in a row: (5/37)^64 ≈ 1e-56.
	for (let attempt = 0; attempt < 64; attempt++) {
		crypto.getRandomValues(random);
		// The low 5 bits of a uniform byte are uniform: no modulo bias.
		for (let i = 0; i < DATA_SYMBOLS; i++) values[i] = (random[i] ?? 0) & 31;
		const check = checkValue(values.subarray(0, DATA_SYMBOLS));
		if (check < 32) {
			values[DATA_SYMBOLS] = check;
			return formatKey(values);
		}
	}
	throw new Error("random source produced no usable license key");
}

/** Result of `parseLicenseKey`: a typo is a result, not an exception. */
export type ParsedKey = { ok: true; key: string } | { ok: false; reason: "FORMAT" | "CHECKSUM" };

/**
 * Reads a license key as a person might type or paste it — any case, surrounding white
 * space, dashes or spaces missing, doubled or misplaced, `I`/`L` for 1 and `O` for 0 —
 * and returns its canonical form. `FORMAT` means it is not shaped like a key (wrong
 * prefix, length or symbol); `CHECKSUM` means a typo: do not send it to the server.
 */
export function parseLicenseKey(input: string): ParsedKey {
	// A validate parses its key twice (the rate-limit bucket, then the hash): a pure function's
	// last answer is kept for the same input (frozen, so no caller can change it for the next).
	if (lastParsed !== undefined && lastParsed.input === input) return lastParsed.parsed;
	const parsed = Object.freeze(parseUncached(input));
	if (typeof input === "string") lastParsed = { input, parsed };
	return parsed;
}

let lastParsed: { input: string; parsed: ParsedKey } | undefined;

function parseUncached(input: string): ParsedKey {
	if (typeof input !== "string" || input.length > LICENSE_KEY_MAX_INPUT_LENGTH) {
		return { ok: false, reason: "FORMAT" };
	}
	// Keys as the CLI sends them are canonical already: check the symbols in place, with no
	// copy of the key built (validate's hot path; the general path below makes five strings).
	if (LICENSE_KEY_PATTERN.test(input)) {
		let remainder = 0;
		for (let i = PREFIX.length; i < input.length - 1; i++) {
			const code = input.charCodeAt(i);
			if (code !== DASH) remainder = (remainder * 32 + (DECODE_TABLE[code] ?? 0)) % CHECK_MODULUS;
		}
		const check = DECODE_TABLE[input.charCodeAt(input.length - 1)];
		return check === remainder ? { ok: true, key: input } : { ok: false, reason: "CHECKSUM" };
	}
	const compact = input.replace(SEPARATORS, "");
	if (compact.length !== PREFIX.length + DATA_SYMBOLS + 1) {
		return { ok: false, reason: "FORMAT" };
	}
	if (compact.slice(0, PREFIX.length).toUpperCase() !== PREFIX) {
		return { ok: false, reason: "FORMAT" };
	}
	const values = new Uint8Array(DATA_SYMBOLS + 1);
	for (let i = 0; i < values.length; i++) {
		const code = compact.charCodeAt(PREFIX.length + i);
		const value = code < 128 ? (DECODE_TABLE[code] ?? -1) : -1;
		if (value < 0) return { ok: false, reason: "FORMAT" };
		values[i] = value;
	}
	if (checkValue(values.subarray(0, DATA_SYMBOLS)) !== values[DATA_SYMBOLS]) {
		return { ok: false, reason: "CHECKSUM" };
	}
	return { ok: true, key: formatKey(values) };
}

function assertCanonical(canonicalKey: string): void {
	if (typeof canonicalKey !== "string" || !LICENSE_KEY_PATTERN.test(canonicalKey)) {
		throw new TypeError("expected a canonical license key (from parseLicenseKey)");
	}
}

/**
 * The last 4 characters of a canonical key, kept in the clear for display ("…7QX4"). They
 * hold 15 random bits plus the check symbol; the other ~115 bits stay secret.
 * Throws `TypeError` if given anything but a canonical key (a bug in the caller).
 */
export function licenseKeyLast4(canonicalKey: string): string {
	assertCanonical(canonicalKey);
	return canonicalKey.slice(-4);
}

/** Shortest accepted `LICENSE_KEY_PEPPER`, in UTF-8 bytes: an HMAC key of 256 bits. */
export const KEY_PEPPER_MIN_BYTES = 32;

/**
 * Imports the `LICENSE_KEY_PEPPER` secret (its UTF-8 bytes) as a non-extractable
 * HMAC-SHA-256 key. Throws if it is shorter than `KEY_PEPPER_MIN_BYTES`: a short pepper
 * would let a database dump be brute-forced, so refusing to start beats a weak fallback.
 */
export async function importKeyPepper(secret: string): Promise<CryptoKey> {
	if (typeof secret !== "string") {
		throw new TypeError("LICENSE_KEY_PEPPER must be a string");
	}
	const bytes = encodeUtf8(secret);
	if (bytes.length < KEY_PEPPER_MIN_BYTES) {
		throw new Error(`LICENSE_KEY_PEPPER must be at least ${KEY_PEPPER_MIN_BYTES} bytes`);
	}
	return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

function toHex(bytes: Uint8Array): string {
	let hex = "";
	for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
	return hex;
}

/**
 * The stored form of a key: lowercase hex of HMAC-SHA-256(pepper, canonical key). Keyed, so
 * a database dump without the pepper reveals nothing usable; deterministic, so it is the
 * lookup index. Throws `TypeError` for a non-canonical key, because hashing another
 * spelling of the same key would silently miss the stored row.
 */
export async function hashLicenseKey(pepper: CryptoKey, canonicalKey: string): Promise<string> {
	assertCanonical(canonicalKey);
	const mac = await crypto.subtle.sign("HMAC", pepper, encodeUtf8(canonicalKey));
	return toHex(new Uint8Array(mac));
}
