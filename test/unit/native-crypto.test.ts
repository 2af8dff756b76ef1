import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config";
import { SettingsSchema } from "../../src/env";
import {
	generateLicenseKey,
	generateSigningKeyPair,
	hashLicenseKey,
	importKeyPepper,
} from "../../src/kernel/index";
import { nodeCrypto } from "../../src/node/native-crypto";

describe("Node's native crypto", () => {
	it("hashes license keys exactly like the WebCrypto version the Worker uses", async () => {
		const pepper = "p".repeat(40);
		const hash = nodeCrypto.keyHasher(pepper);
		const web = await importKeyPepper(pepper);
		for (let i = 0; i < 20; i++) {
			const key = generateLicenseKey();
			expect(await hash(key)).toBe(await hashLicenseKey(web, key));
		}
	});

	it("signs with the same key and bytes as WebCrypto (Ed25519 is deterministic)", async () => {
		const pair = await generateSigningKeyPair();
		const settings = SettingsSchema.parse({
			PUBLIC_URL: "http://x.test",
			LICENSE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
			LICENSE_KEY_PEPPER: "p".repeat(40),
			JWT_SECRET: "j".repeat(40),
		});
		const [portable, native] = await Promise.all([
			buildConfig(settings),
			buildConfig(settings, nodeCrypto),
		]);
		const data = new TextEncoder().encode("header.payload");
		expect(await native.signingKey.sign(data)).toEqual(await portable.signingKey.sign(data));
		const key = generateLicenseKey();
		expect(await native.hashLicenseKey(key)).toBe(await portable.hashLicenseKey(key));
	});
});
