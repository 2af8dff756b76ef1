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

export function newId(prefix: IdPrefix): string {
	const bytes = randomBytes(20);
	let out = `${prefix}_`;
	for (const b of bytes) out += ALPHABET[b & 31];
	return out;
}
