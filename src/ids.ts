const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** Prefixed random id (`lic_…`): 20 Crockford base32 chars = 100 bits, unguessable and log-friendly. */
export function newId(prefix: "lic" | "act" | "usr" | "aud" | "rtf" | "rtk" | "req"): string {
	const bytes = crypto.getRandomValues(new Uint8Array(20));
	let out = `${prefix}_`;
	for (const b of bytes) out += ALPHABET[b & 31];
	return out;
}
