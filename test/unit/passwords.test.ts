import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ARGON2_POLICY, parsePhc, passwordHasher } from "../../src/accounts/password";
import { argon2idNative } from "../../src/node/argon2";
import { argon2idWasm } from "../../src/workers/argon2-wasm";

const wasmModule = new WebAssembly.Module(
	readFileSync(new URL("../../node_modules/argon2-wasm-edge/wasm/argon2.wasm", import.meta.url)),
);
const worker = passwordHasher(argon2idWasm(wasmModule));
const node = passwordHasher(argon2idNative);

describe("password hashes", () => {
	it("are Argon2id PHC strings at OWASP's parameters (m=19456, t=2, p=1)", async () => {
		const phc = await node.hash("correct horse");
		expect(phc).toMatch(
			/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
		);
		expect(parsePhc(phc)?.params).toEqual(ARGON2_POLICY);
	});

	it("made in workerd verify on Node and the other way round (same strings, both runtimes)", async () => {
		const password = "pässwörd ✓ 🔑";
		const fromWorker = await worker.hash(password);
		const fromNode = await node.hash(password);
		expect(await node.verify(fromWorker, password)).toBe(true);
		expect(await worker.verify(fromNode, password)).toBe(true);
		expect(await node.verify(fromWorker, "pässwörd ✓ 🔐")).toBe(false);
		expect(await worker.verify(fromNode, password.normalize("NFD"))).toBe(false);
	});

	it("match the reference implementation at other parameters (p=4, small m)", async () => {
		const params = { memoryKiB: 4096, iterations: 3, parallelism: 4 };
		const phc = await passwordHasher(argon2idWasm(wasmModule), params).hash("pw-12345678");
		expect(await passwordHasher(argon2idNative, params).verify(phc, "pw-12345678")).toBe(true);
		expect(await node.verify(phc, "pw-12345678")).toBe(true);
	});

	it("ask for a rehash when made with weaker parameters than the policy", async () => {
		const weak = await passwordHasher(argon2idNative, {
			memoryKiB: 8192,
			iterations: 1,
			parallelism: 1,
		}).hash("pw");
		expect(node.needsRehash(weak)).toBe(true);
		expect(await node.verify(weak, "pw")).toBe(true);
		expect(node.needsRehash(await node.hash("pw"))).toBe(false);
	});

	it("refuse tampered, foreign and absurd hashes instead of computing them", async () => {
		const phc = await node.hash("pw-12345678");
		const flipped = phc.slice(0, -2) + (phc.at(-2) === "A" ? "B" : "A") + phc.at(-1);
		expect(await node.verify(flipped, "pw-12345678")).toBe(false);
		for (const bad of [
			"",
			"plaintext",
			phc.replace("argon2id", "argon2i"),
			phc.replace("v=19", "v=16"),
			phc.replace("m=19456", "m=99999999"),
			phc.replace("t=2", "t=999"),
			"$2b$10$abcdefghijklmnopqrstuuBW7b3HrJ3S3Rk8h6vBz1lYjVvV4x0y2", // bcrypt
		]) {
			expect(await node.verify(bad, "pw-12345678"), bad).toBe(false);
		}
	});
});
