import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashHardwareId } from "../../cli/fingerprint";
import { hmacSha256, sha256 } from "../../cli/node-crypto";

// RFC 4231 §4: HMAC-SHA-256 test cases 1, 2, 3, 6 and 7 (6 and 7 have a 131-byte key).
const RFC4231: Array<{ key: string; data: string; mac: string }> = [
	{
		key: "0b".repeat(20),
		data: Buffer.from("Hi There").toString("hex"),
		mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	},
	{
		key: Buffer.from("Jefe").toString("hex"),
		data: Buffer.from("what do ya want for nothing?").toString("hex"),
		mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	},
	{
		key: "aa".repeat(20),
		data: "dd".repeat(50),
		mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	},
	{
		key: "aa".repeat(131),
		data: Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First").toString("hex"),
		mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	},
	{
		key: "aa".repeat(131),
		data: Buffer.from(
			"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
		).toString("hex"),
		mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	},
];

describe("the CLI's one-shot hashes", () => {
	it("computes HMAC-SHA-256 as RFC 4231 says", () => {
		for (const v of RFC4231) {
			const mac = hmacSha256(Buffer.from(v.key, "hex"), Buffer.from(v.data, "hex"));
			expect(mac.toString("hex")).toBe(v.mac);
		}
	});

	it("agrees with createHmac and createHash for keys and messages of every length around the block", () => {
		for (const keyLength of [0, 1, 16, 63, 64, 65, 200]) {
			for (const messageLength of [0, 1, 55, 56, 64, 1000]) {
				const key = randomBytes(keyLength);
				const message = randomBytes(messageLength);
				expect(
					hmacSha256(key, message).equals(createHmac("sha256", key).update(message).digest()),
				).toBe(true);
				expect(sha256(message).equals(createHash("sha256").update(message).digest())).toBe(true);
			}
		}
	});

	it("keeps every machine's hardware id: the same value createHmac gave", () => {
		for (const raw of ["bench-machine", "4c4c4544-0042-3510-8052-b4c04f4b4e32", " MiXeD Case \n"]) {
			expect(hashHardwareId(raw)).toBe(
				createHmac("sha256", "coditect-hwid-v1").update(raw.trim().toLowerCase()).digest("hex"),
			);
		}
	});
});
