import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	generateLicenseKey,
	hashLicenseKey,
	importKeyPepper,
	LICENSE_KEY_PATTERN,
	licenseKeyLast4,
	parseLicenseKey,
} from "../../src/kernel/index";
import vectors from "../vectors/license-key.json";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const PEPPER = "test-only pepper, 32 bytes or more: not a secret";

/** Crockford's mod-37 check computed with BigInt, independently of src/kernel/license-key.ts. */
function bigIntCheck(body: string): number {
	let n = 0n;
	for (const symbol of body) n = n * 32n + BigInt(CROCKFORD.indexOf(symbol));
	return Number(n % 37n);
}

function symbolsOf(canonicalKey: string): string {
	return canonicalKey.slice(4).replaceAll("-", "");
}

function canonical(symbols: string): string {
	return `CDT-${symbols.slice(0, 9)}-${symbols.slice(9, 18)}-${symbols.slice(18)}`;
}

/** Deterministic PRNG (mulberry32) so the exhaustive checks are reproducible. */
function seededRandom(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state + 0x6d2b79f5) | 0;
		let t = Math.imul(state ^ (state >>> 15), 1 | state);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/**
 * A valid key (check value < 32) whose 27 symbols have the given symbols at the given
 * positions; position 26 is the check symbol.
 */
function validKeyWith(fixed: ReadonlyMap<number, string>, random: () => number): string {
	for (;;) {
		let body = "";
		for (let i = 0; i < 26; i++) {
			body += fixed.get(i) ?? CROCKFORD.charAt(Math.floor(random() * 32));
		}
		const check = bigIntCheck(body);
		const wanted = fixed.get(26);
		if (check < 32 && (wanted === undefined || CROCKFORD.charAt(check) === wanted)) {
			return canonical(body + CROCKFORD.charAt(check));
		}
	}
}

function replaceAt(symbols: string, index: number, replacement: string): string {
	return symbols.slice(0, index) + replacement + symbols.slice(index + replacement.length);
}

describe("generateLicenseKey", () => {
	it("makes keys of the form CDT-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX, 33 characters", () => {
		for (let i = 0; i < 1000; i++) {
			const key = generateLicenseKey();
			expect(key).toMatch(LICENSE_KEY_PATTERN);
			expect(key).toHaveLength(33);
		}
	});

	it("makes keys that parse back to themselves", () => {
		for (let i = 0; i < 1000; i++) {
			const key = generateLicenseKey();
			expect(parseLicenseKey(key)).toEqual({ ok: true, key });
		}
	});

	it("ends every key with Crockford's mod-37 check of its body, always a plain base32 symbol", () => {
		for (let i = 0; i < 1000; i++) {
			const symbols = symbolsOf(generateLicenseKey());
			const check = bigIntCheck(symbols.slice(0, 26));
			expect(check).toBeLessThan(32);
			expect(symbols.charAt(26)).toBe(CROCKFORD.charAt(check));
		}
	});

	it("never repeats a key in 20,000 draws", () => {
		const keys = new Set(Array.from({ length: 20_000 }, generateLicenseKey));
		expect(keys.size).toBe(20_000);
	});

	it("uses every symbol in every position, so no random bit is stuck", () => {
		const seen = Array.from({ length: 27 }, () => new Set<string>());
		for (let i = 0; i < 4000; i++) {
			const symbols = symbolsOf(generateLicenseKey());
			for (let p = 0; p < 27; p++) seen[p]?.add(symbols.charAt(p));
		}
		expect(seen.map((symbols) => symbols.size)).toEqual(Array(27).fill(32));
	});

	it("spreads symbols evenly (each within ±25% of its expected count over 100,000 symbols)", () => {
		const counts = new Map<string, number>();
		for (let i = 0; i < 4000; i++) {
			for (const symbol of symbolsOf(generateLicenseKey()).slice(0, 25)) {
				counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
			}
		}
		const expected = (4000 * 25) / 32;
		for (const symbol of CROCKFORD) {
			expect(counts.get(symbol) ?? 0).toBeGreaterThan(expected * 0.75);
			expect(counts.get(symbol) ?? 0).toBeLessThan(expected * 1.25);
		}
	});
});

describe("parseLicenseKey", () => {
	it.each(vectors.cases)("$why → $expected.ok", ({ input, expected }) => {
		expect(parseLicenseKey(input)).toEqual(expected);
	});

	it("accepts any mix of case, separators and aliases of a valid key", () => {
		const aliases: Record<string, readonly string[]> = {
			"0": ["0", "O", "o"],
			"1": ["1", "I", "i", "L", "l"],
		};
		fc.assert(
			fc.property(
				fc.integer({ min: 0, max: 2 ** 31 - 1 }),
				fc.array(fc.constantFrom("", "", "-", " ", "\u00a0", "\t"), {
					minLength: 31,
					maxLength: 31,
				}),
				(seed, separators) => {
					const random = seededRandom(seed);
					const key = validKeyWith(new Map(), random);
					let typed = "";
					const compact = `CDT${symbolsOf(key)}`;
					for (let i = 0; i < compact.length; i++) {
						const symbol = compact.charAt(i);
						const spellings = i >= 3 ? (aliases[symbol] ?? [symbol]) : [symbol];
						const spelled = spellings[Math.floor(random() * spellings.length)] ?? symbol;
						typed += (random() < 0.5 ? spelled.toLowerCase() : spelled) + (separators[i] ?? "");
					}
					fc.pre(typed.length <= 50);
					expect(parseLicenseKey(typed)).toEqual({ ok: true, key });
				},
			),
			{ numRuns: 500 },
		);
	});

	it("refuses input over 50 characters without reading it", () => {
		const started = performance.now();
		expect(parseLicenseKey(`${generateLicenseKey()}${" ".repeat(1_000_000)}`)).toEqual({
			ok: false,
			reason: "FORMAT",
		});
		expect(performance.now() - started).toBeLessThan(50);
	});

	it("never throws, whatever it is given", () => {
		fc.assert(
			fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), (input) => {
				const result = parseLicenseKey(input);
				expect(result.ok === false || LICENSE_KEY_PATTERN.test(result.key)).toBe(true);
			}),
			{ numRuns: 2000 },
		);
		for (const input of [undefined, null, 42, {}, []]) {
			expect(parseLicenseKey(input as unknown as string)).toEqual({ ok: false, reason: "FORMAT" });
		}
	});

	it("answers a canonical spelling (its own fast path) as it answers any other spelling", () => {
		// Canonical-shaped strings, typos included: lower case plus a space takes the general path.
		const symbol = fc.constantFrom(...CROCKFORD);
		const group = fc.array(symbol, { minLength: 9, maxLength: 9 }).map((s) => s.join(""));
		const canonical = fc.oneof(
			fc.tuple(group, group, group).map((g) => `CDT-${g.join("-")}`),
			fc.constant(null).map(() => generateLicenseKey()),
		);
		fc.assert(
			fc.property(canonical, fc.nat(32), symbol, (key, at, typo) => {
				// A typo on a symbol (never on "CDT-" or a dash), or none.
				const input =
					at < 4 || key[at] === "-" ? key : `${key.slice(0, at)}${typo}${key.slice(at + 1)}`;
				expect(LICENSE_KEY_PATTERN.test(input)).toBe(true);
				expect(parseLicenseKey(input)).toEqual(parseLicenseKey(` ${input.toLowerCase()}`));
			}),
			{ numRuns: 5000 },
		);
	});
});

describe("the check symbol", () => {
	it("is provably sound: (a − b)·32^k and (a − b)·32^k·31 are never 0 mod 37", () => {
		// The change a substitution (first) or a neighbour swap (second) makes to the
		// number the key spells; 37 being prime, neither vanishes for 0 < |a − b| < 32.
		for (let k = 0; k < 26; k++) {
			const weight = Number(32n ** BigInt(k) % 37n);
			for (let difference = 1; difference < 32; difference++) {
				expect((difference * weight) % 37).not.toBe(0);
				expect((difference * weight * 31) % 37).not.toBe(0);
			}
		}
	});

	it("catches every single-symbol substitution, in every position including the check", () => {
		const random = seededRandom(1);
		const missed: string[] = [];
		for (let position = 0; position < 27; position++) {
			for (const from of CROCKFORD) {
				const key = validKeyWith(new Map([[position, from]]), random);
				if (!parseLicenseKey(key).ok) missed.push(`valid ${key} refused`);
				const symbols = symbolsOf(key);
				for (const to of CROCKFORD) {
					if (to === from) continue;
					const typo = canonical(replaceAt(symbols, position, to));
					if (parseLicenseKey(typo).ok) missed.push(typo);
				}
			}
		}
		expect(missed).toEqual([]);
	});

	it("catches every swap of two different neighbours, the last symbol and the check included", () => {
		const random = seededRandom(2);
		const missed: string[] = [];
		for (let position = 0; position < 26; position++) {
			for (const a of CROCKFORD) {
				for (const b of CROCKFORD) {
					if (a === b) continue;
					const fixed = new Map([
						[position, a],
						[position + 1, b],
					]);
					const key = validKeyWith(fixed, random);
					if (!parseLicenseKey(key).ok) missed.push(`valid ${key} refused`);
					const symbols = symbolsOf(key);
					const swapped = canonical(replaceAt(symbols, position, b + a));
					if (parseLicenseKey(swapped).ok) missed.push(swapped);
				}
			}
		}
		expect(missed).toEqual([]);
	});

	it("reports a typo as CHECKSUM, not FORMAT, so the CLI can say 'check the key for a typo'", () => {
		const symbols = symbolsOf(validKeyWith(new Map([[5, "A"]]), seededRandom(3)));
		expect(parseLicenseKey(canonical(replaceAt(symbols, 5, "B")))).toEqual({
			ok: false,
			reason: "CHECKSUM",
		});
	});
});

describe("licenseKeyLast4", () => {
	it("gives the last four characters of the canonical key", () => {
		expect(licenseKeyLast4("CDT-7QX4M2R9K-D0T1VWPZB-3NHC8FGM1")).toBe("FGM1");
	});

	it("refuses anything but a canonical key, which would be a bug in the caller", () => {
		expect(() => licenseKeyLast4("cdt-7qx4m2r9k-d0t1vwpzb-3nhc8fgm1")).toThrow(TypeError);
	});
});

describe("hashLicenseKey", () => {
	it("is the lowercase hex HMAC-SHA-256 of the canonical key under the pepper", async () => {
		const key = generateLicenseKey();
		const expected = createHmac("sha256", PEPPER).update(key).digest("hex");
		expect(await hashLicenseKey(await importKeyPepper(PEPPER), key)).toBe(expected);
	});

	it("is deterministic, so it can be the lookup index", async () => {
		const pepper = await importKeyPepper(PEPPER);
		const key = generateLicenseKey();
		expect(await hashLicenseKey(pepper, key)).toBe(await hashLicenseKey(pepper, key));
	});

	it("is keyed: another pepper gives an unrelated hash", async () => {
		const key = generateLicenseKey();
		const one = await hashLicenseKey(await importKeyPepper(PEPPER), key);
		const other = await hashLicenseKey(await importKeyPepper(`${PEPPER}!`), key);
		expect(one).toMatch(/^[0-9a-f]{64}$/);
		expect(other).not.toBe(one);
	});

	it("refuses a non-canonical spelling, which would silently miss the stored row", async () => {
		const pepper = await importKeyPepper(PEPPER);
		const key = generateLicenseKey();
		await expect(hashLicenseKey(pepper, key.toLowerCase())).rejects.toThrow(TypeError);
	});
});

describe("importKeyPepper", () => {
	it("refuses a pepper shorter than 32 bytes rather than hash with a weak key", async () => {
		await expect(importKeyPepper("short")).rejects.toThrow(/at least 32 bytes/);
		await expect(importKeyPepper("")).rejects.toThrow(/at least 32 bytes/);
	});

	it("makes a key that cannot be exported back out", async () => {
		const pepper = await importKeyPepper(PEPPER);
		expect(pepper.extractable).toBe(false);
		await expect(crypto.subtle.exportKey("raw", pepper)).rejects.toThrow();
	});
});
