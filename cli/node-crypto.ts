/**
 * node:crypto primitives for license-token verification (src/kernel/token/keys.ts SignatureVerifier).
 * Synchronous and without WebCrypto's start-up cost: in a fresh Node process the whole
 * check (HMAC, thumbprint, key import, verify) takes ~4 ms this way against ~8 ms through
 * WebCrypto (bench/cli-status.ts; bench/README.md).
 */
import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { encodeBase64Url } from "../src/kernel/base64url";
import type { SignatureVerifier } from "../src/kernel/token/keys";

export const nodeVerifier: SignatureVerifier<KeyObject> = {
	importKey: (x) =>
		createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: encodeBase64Url(x) }, format: "jwk" }),
	verify: (key, signature, data) => verify(null, data, key, signature),
	sha256: (data) => createHash("sha256").update(data).digest(),
};
