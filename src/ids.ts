import { randomBytes } from "./kernel/random-bytes";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** Prefixed random id (`lic_…`): 20 Crockford base32 chars = 100 bits, unguessable and log-friendly. */
export type IdPrefix =
	| "lic"
	| "act"
	| "usr"
	| "aud"
	| "rtf"
	| "rtk"
	| "req"
	| "org"
	| "seat"
	| "oinv"
	| "cik"
	| "ctr"
	| "cil"
	| "whe"
	| "ivb";

const CODES = Uint8Array.from(ALPHABET, (ch) => ch.charCodeAt(0));
const chars = new Uint8Array(20);

export function newId(prefix: IdPrefix): string {
	const bytes = randomBytes(20);
	for (let i = 0; i < 20; i++) chars[i] = CODES[(bytes[i] as number) & 31] as number;
	// One string from the codes: appending a character at a time built 20 intermediate strings
	// (a validate makes three ids).
	return `${prefix}_${String.fromCharCode.apply(null, chars as unknown as number[])}`;
}
