import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultHome, normalizeApiUrl } from "../../cli/config";
import { hashHardwareId } from "../../cli/fingerprint";
import { readFileIfExists, readJsonFile } from "../../cli/home";
import { cacheJwks, jwksCacheFile, trustedKeys } from "../../cli/license/keys";
import { generateSigningKeyPair } from "../../src/kernel/index";

const root = mkdtempSync(join(tmpdir(), "coditect-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("readFileIfExists (the license check's reads)", () => {
	it("answers null for a missing file, the text for a file, and throws for a directory", () => {
		const file = join(root, "a.txt");
		expect(readFileIfExists(file)).toBeNull();
		expect(readFileIfExists(join(root, "no-dir", "a.txt"))).toBeNull();
		writeFileSync(file, "hello");
		expect(readFileIfExists(file)).toBe("hello");
		mkdirSync(join(root, "dir"));
		expect(() => readFileIfExists(join(root, "dir"))).toThrow();
	});

	it("keeps readJsonFile's three answers apart", () => {
		writeFileSync(join(root, "ok.json"), '{"a":1}');
		writeFileSync(join(root, "bad.json"), "{");
		expect(readJsonFile(join(root, "ok.json"))).toEqual({ kind: "ok", value: { a: 1 } });
		expect(readJsonFile(join(root, "bad.json"))).toEqual({ kind: "corrupt" });
		expect(readJsonFile(join(root, "missing.json"))).toEqual({ kind: "missing" });
		expect(readJsonFile(join(root, "dir"))).toEqual({ kind: "corrupt" });
	});
});

describe("trustedKeys (imported once per cached JWKS text)", () => {
	const apiUrl = "https://licensing.example.test";

	it("sees a rewritten JWKS cache at once, and an emptied one", async () => {
		const home = join(root, "home");
		mkdirSync(home);
		const first = await generateSigningKeyPair();
		const second = await generateSigningKeyPair();
		cacheJwks(home, apiUrl, [first.publicJwk]);
		const a = await trustedKeys(home, apiUrl);
		expect([...a.keys()]).toEqual([first.kid]);
		// The same text: the same imported set, not a second import.
		expect(await trustedKeys(home, apiUrl)).toBe(a);
		cacheJwks(home, apiUrl, [second.publicJwk]);
		expect([...(await trustedKeys(home, apiUrl)).keys()]).toEqual([second.kid]);
		// The cache names its server: another URL never gets these keys.
		expect((await trustedKeys(home, "https://other.example.test")).size).toBe(0);
		const file = jwksCacheFile(home, apiUrl);
		if (!file) throw new Error("a non-default server has a cache file");
		rmSync(file);
		expect((await trustedKeys(home, apiUrl)).size).toBe(0);
	});
});

describe("the check's kept last answers (pure functions asked the same at every check)", () => {
	it("normalizeApiUrl answers each input for itself and still refuses after a success", () => {
		expect(normalizeApiUrl("https://a.example.test/")).toBe("https://a.example.test");
		expect(normalizeApiUrl("https://a.example.test/")).toBe("https://a.example.test");
		expect(normalizeApiUrl("http://127.0.0.1:8787/x//")).toBe("http://127.0.0.1:8787/x");
		expect(() => normalizeApiUrl("http://a.example.test")).toThrow(/https/);
		expect(normalizeApiUrl("https://a.example.test/")).toBe("https://a.example.test");
		expect(() => normalizeApiUrl("http://a.example.test")).toThrow(/https/);
	});

	it("hashHardwareId answers each input for itself", () => {
		const a = hashHardwareId("machine-a");
		const b = hashHardwareId("machine-b");
		expect(a).not.toBe(b);
		expect(hashHardwareId("machine-a")).toBe(a);
		expect(hashHardwareId(" MACHINE-A ")).toBe(a);
		expect(hashHardwareId("machine-b")).toBe(b);
	});
});

describe("defaultHome", () => {
	it("is ~/.coditect from HOME as os.homedir() reads it, and CODITECT_HOME when set", () => {
		const variable = process.platform === "win32" ? "USERPROFILE" : "HOME";
		expect(defaultHome({ [variable]: join(root, "u") })).toBe(join(root, "u", ".coditect"));
		expect(defaultHome({})).toBe(join(homedir(), ".coditect"));
		expect(defaultHome({ [variable]: join(root, "u"), CODITECT_HOME: join(root, "c") })).toBe(
			join(root, "c"),
		);
	});
});
