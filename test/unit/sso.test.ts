/** SSO building blocks: the sealed client secret, domain rules, and TXT verification through a
 * resolver (a fake DNS-over-HTTPS server on loopback, and a fake resolver), never the internet. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	checkVerificationRecord,
	domainOfEmail,
	newVerificationToken,
	normalizeDomain,
	verificationRecord,
} from "../../src/sso/domains";
import { dohResolver, type TxtResolver, unquoteTxt } from "../../src/sso/resolver";
import { openSecret, sealSecret } from "../../src/sso/secret-box";

const PEPPER = "p".repeat(40);

describe("the sealed client secret", () => {
	it("opens for the org it was sealed for, and for no other org or pepper", async () => {
		const sealed = await sealSecret(PEPPER, "org_a", "s3cret");
		expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
		expect(sealed).not.toContain("s3cret");
		await expect(openSecret(PEPPER, "org_a", sealed)).resolves.toBe("s3cret");
		await expect(openSecret(PEPPER, "org_b", sealed)).resolves.toBeNull();
		await expect(openSecret("q".repeat(40), "org_a", sealed)).resolves.toBeNull();
		await expect(
			openSecret(PEPPER, "org_a", `${sealed.slice(0, -2)}${sealed.endsWith("AA") ? "BA" : "AA"}`),
		).resolves.toBeNull();
		await expect(openSecret(PEPPER, "org_a", "garbage")).resolves.toBeNull();
	});

	it("seals the same secret differently each time (random IV)", async () => {
		expect(await sealSecret(PEPPER, "o", "x")).not.toBe(await sealSecret(PEPPER, "o", "x"));
	});
});

describe("domains", () => {
	it("normalises host names and refuses what is not one", () => {
		expect(normalizeDomain(" Example.COM. ")).toBe("example.com");
		expect(normalizeDomain("xn--bcher-kva.example")).toBe("xn--bcher-kva.example");
		for (const bad of ["com", "", "a..b", "-a.com", "a-.com", "a_b.com", "1.2.3.4", "a.com/x"]) {
			expect(normalizeDomain(bad), bad).toBeNull();
		}
		expect(normalizeDomain(`${"a".repeat(64)}.com`)).toBeNull();
		expect(domainOfEmail("Ann@Acme.Example")).toBe("acme.example");
		expect(domainOfEmail("no-at-sign")).toBeNull();
	});

	it("makes 26-character tokens and a record under _coditect", () => {
		const t = newVerificationToken();
		expect(t).toMatch(/^[a-z2-7]{26}$/);
		expect(newVerificationToken()).not.toBe(t);
		expect(verificationRecord("acme.example", t)).toEqual({
			name: "_coditect.acme.example",
			value: `coditect-verification=${t}`,
		});
	});
});

describe("TXT verification", () => {
	const fake = (records: Record<string, string[]>, fail = false): TxtResolver => ({
		async resolveTxt(name) {
			if (fail) throw new Error("SERVFAIL");
			return records[name] ?? [];
		},
	});

	it("verifies only the exact record at the right name", async () => {
		const token = "abc";
		const ok = fake({ "_coditect.acme.example": ["v=spf1 -all", " coditect-verification=abc "] });
		await expect(checkVerificationRecord(ok, "acme.example", token)).resolves.toBe("verified");
		const wrongName = fake({ "acme.example": ["coditect-verification=abc"] });
		await expect(checkVerificationRecord(wrongName, "acme.example", token)).resolves.toBe(
			"record_missing",
		);
		const wrongToken = fake({ "_coditect.acme.example": ["coditect-verification=abcd"] });
		await expect(checkVerificationRecord(wrongToken, "acme.example", token)).resolves.toBe(
			"record_missing",
		);
		await expect(checkVerificationRecord(fake({}, true), "acme.example", token)).resolves.toBe(
			"lookup_failed",
		);
	});

	describe("over DNS-over-HTTPS", () => {
		const zone = new Map<string, string[]>();
		let url = "";
		const server = createServer((req, res) => {
			const u = new URL(req.url ?? "/", "http://x");
			const name = u.searchParams.get("name") ?? "";
			if (name === "broken.example") {
				res.writeHead(502).end();
				return;
			}
			const data = zone.get(name);
			res.writeHead(200, { "content-type": "application/dns-json" });
			res.end(
				JSON.stringify(
					data
						? { Status: 0, Answer: data.map((d) => ({ name, type: 16, TTL: 60, data: d })) }
						: { Status: 3 },
				),
			);
		});
		beforeAll(async () => {
			await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
			url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dns-query`;
		});
		afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

		it("reads quoted, split TXT strings and treats NXDOMAIN as no records", async () => {
			zone.set("_coditect.acme.example", ['"coditect-verif" "ication=tok"', '"other"']);
			const doh = dohResolver(url);
			await expect(doh.resolveTxt("_coditect.acme.example")).resolves.toEqual([
				"coditect-verification=tok",
				"other",
			]);
			await expect(doh.resolveTxt("none.example")).resolves.toEqual([]);
			await expect(checkVerificationRecord(doh, "acme.example", "tok")).resolves.toBe("verified");
			await expect(doh.resolveTxt("broken.example")).rejects.toThrow(/502/);
		});
	});

	it("unquotes escaped characters", () => {
		expect(unquoteTxt('"a\\"b" "c"')).toBe('a"bc');
		expect(unquoteTxt("bare")).toBe("bare");
	});
});
