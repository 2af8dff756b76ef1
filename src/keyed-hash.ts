/**
 * Keyed hashes of server-side secrets (signup codes, invitation codes, CI API keys): HMAC-SHA-256
 * under the pepper, lower-case hex. Each caller prefixes its own label, so the MACs of one kind
 * can never stand in for another's.
 */
export function toHex(bytes: Uint8Array): string {
	let out = "";
	for (const b of bytes) out += b.toString(16).padStart(2, "0");
	return out;
}

export async function hmacHex(key: CryptoKey, message: string): Promise<string> {
	return toHex(
		new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message))),
	);
}
