import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	decodeBase64Url,
	encodeBase64Url,
	encodeBase64UrlPortable,
	encodeUtf8,
	encodeUtf8Base64Url,
} from "../../src/kernel/base64url";

describe("base64url", () => {
	it("encodes every length as Node's own encoder does, and decodes back", () => {
		// Around each remainder, and long inputs. The portable loop is what runtimes without
		// Buffer use; encodeBase64Url is Node's encoder here, so it is held to the loop too.
		for (const length of [0, 1, 2, 3, 4, 5, 31, 32, 33, 64, 600, 6143, 6144, 6145, 20_000]) {
			const bytes = new Uint8Array(randomBytes(length));
			const text = encodeBase64UrlPortable(bytes);
			expect(text).toBe(Buffer.from(bytes).toString("base64url"));
			expect(encodeBase64Url(bytes)).toBe(text);
			expect(decodeBase64Url(text)).toEqual(bytes);
		}
	});

	it("encodes views into a larger buffer by their own bytes only", () => {
		fc.assert(
			fc.property(
				fc.uint8Array({ maxLength: 300 }),
				fc.nat(40),
				fc.nat(40),
				(bytes, before, after) => {
					const backing = new Uint8Array(before + bytes.length + after).fill(0xaa);
					backing.set(bytes, before);
					const view = backing.subarray(before, before + bytes.length);
					expect(encodeBase64Url(view)).toBe(encodeBase64UrlPortable(bytes));
				},
			),
		);
	});

	it("encodes text as base64url of its UTF-8, lone surrogates as U+FFFD, like TextEncoder", () => {
		for (const text of ["", "{}", '{"a":"é€𝄞"}', "lone \ud800 and \udfff", "x".repeat(5000)]) {
			expect(encodeUtf8Base64Url(text)).toBe(encodeBase64UrlPortable(encodeUtf8(text)));
		}
		fc.assert(
			fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
				expect(encodeUtf8Base64Url(text)).toBe(encodeBase64UrlPortable(encodeUtf8(text)));
			}),
		);
	});

	it("refuses padding, foreign characters and non-canonical trailing bits", () => {
		expect(() => decodeBase64Url("AA==")).toThrow(TypeError);
		expect(() => decodeBase64Url("A+B/")).toThrow(TypeError);
		expect(() => decodeBase64Url("AB")).toThrow(TypeError); // "AA" is the one encoding of 0x00
		expect(() => decodeBase64Url("A")).toThrow(TypeError);
	});
});
