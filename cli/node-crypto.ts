/**
 * node:crypto primitives for the CLI's start-up path: license-token verification
 * (src/kernel/token/keys.ts SignatureVerifier) and the hardware id's HMAC.
 * Synchronous and without WebCrypto's start-up cost: in a fresh Node process the whole
 * check (HMAC, thumbprint, key import, verify) takes ~4 ms this way against ~8 ms through
 * WebCrypto (bench/cli-status.ts; bench/README.md).
 *
 * Hashes go through the one-shot `crypto.hash` (Node ≥ 21.7): the first `createHash` or
 * `createHmac` of a process costs ~0.4 ms (it sets up the streaming Hash class), `hash`
 * ~0.05 ms, and `license status` runs at every start of the host tool.
 */
import { createPublicKey, hash, type KeyObject, verify } from "node:crypto";
import { encodeBase64Url } from "../src/kernel/base64url";
import type { SignatureVerifier } from "../src/kernel/token/keys";

export function sha256(data: Uint8Array | string): Buffer {
	return hash("sha256", data, "buffer");
}

const SHA256_BLOCK = 64;

/**
 * HMAC-SHA-256 (RFC 2104) as two one-shot hashes: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), K
 * zero-padded to the block (hashed first when longer). Checked against `createHmac` and
 * RFC 4231's vectors in test/unit/cli-crypto.test.ts.
 */
export function hmacSha256(key: Uint8Array | string, message: Uint8Array | string): Buffer {
	let k = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
	if (k.length > SHA256_BLOCK) k = sha256(k);
	const inner = Buffer.alloc(SHA256_BLOCK, 0x36);
	const outer = Buffer.alloc(SHA256_BLOCK, 0x5c);
	for (let i = 0; i < k.length; i++) {
		inner[i] = (inner[i] ?? 0) ^ (k[i] ?? 0);
		outer[i] = (outer[i] ?? 0) ^ (k[i] ?? 0);
	}
	const m = typeof message === "string" ? Buffer.from(message, "utf8") : message;
	return sha256(Buffer.concat([outer, sha256(Buffer.concat([inner, m]))]));
}

export const nodeVerifier: SignatureVerifier<KeyObject> = {
	importKey: (x) =>
		createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: encodeBase64Url(x) }, format: "jwk" }),
	verify: (key, signature, data) => verify(null, data, key, signature),
	sha256,
};
