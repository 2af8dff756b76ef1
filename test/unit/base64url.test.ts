import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../src/kernel/base64url";

describe("base64url", () => {
	it("encodes every length as Node's own encoder does, and decodes back", () => {
		// Around each remainder, and long inputs.
		for (const length of [0, 1, 2, 3, 4, 5, 31, 32, 33, 64, 600, 6143, 6144, 6145, 20_000]) {
			const bytes = new Uint8Array(randomBytes(length));
			const text = encodeBase64Url(bytes);
			expect(text).toBe(Buffer.from(bytes).toString("base64url"));
			expect(decodeBase64Url(text)).toEqual(bytes);
		}
	});

	it("refuses padding, foreign characters and non-canonical trailing bits", () => {
		expect(() => decodeBase64Url("AA==")).toThrow(TypeError);
		expect(() => decodeBase64Url("A+B/")).toThrow(TypeError);
		expect(() => decodeBase64Url("AB")).toThrow(TypeError); // "AA" is the one encoding of 0x00
		expect(() => decodeBase64Url("A")).toThrow(TypeError);
	});
});
