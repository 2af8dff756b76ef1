const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

// Random bytes drawn in blocks: one getRandomValues per 200 ids instead of one per id
// (three ids per validate; the per-call cost dominated on Node).
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let offset = POOL_SIZE;

function randomBytes(n: number): Uint8Array {
	if (offset + n > pool.length) {
		pool = crypto.getRandomValues(new Uint8Array(POOL_SIZE));
		offset = 0;
	}
	const out = pool.subarray(offset, offset + n);
	offset += n;
	return out;
}

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
	| "whe";

export function newId(prefix: IdPrefix): string {
	const bytes = randomBytes(20);
	let out = `${prefix}_`;
	for (const b of bytes) out += ALPHABET[b & 31];
	return out;
}
