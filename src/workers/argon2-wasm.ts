/**
 * Argon2id in workerd, driven synchronously over the compiled Argon2 core that ships with
 * argon2-wasm-edge (`wasm/argon2.wasm`, 6.7 KB; BLAKE2b for the small pre/post hashing comes
 * from @noble/hashes).
 *
 * Why not the package's own JS driver: it awaits a module-level mutex and async WASM
 * instantiation, so one request ends up awaiting a promise settled by another request, and
 * workerd parks such continuations (concurrent logins hung in tests). Here every hash is one
 * synchronous call with its own instance — no shared promises, at most one 19 MiB instance
 * live per isolate at a time (the isolate runs one synchronous call at a time).
 *
 * workerd refuses to compile WASM from bytes at run time ("Wasm code generation disallowed by
 * embedder", why hash-wasm fails there), so the Worker entry imports the `.wasm` file as a
 * module and passes it in; Node compiles the same file from disk (tests, benchmark).
 */
import { blake2b } from "@noble/hashes/blake2.js";
import type { Argon2idRaw, Argon2Params } from "../accounts/password";

interface Argon2Exports {
	memory: WebAssembly.Memory;
	Hash_SetMemorySize(totalSize: number): number;
	Hash_GetBuffer(): number;
	Hash_Calculate(length: number, initParam: number, digestParam: number): void;
}

const ARGON2_VERSION = 0x13;
const ARGON2ID = 2;
const BLOCK = 1024;

export function argon2idWasm(module: WebAssembly.Module): Argon2idRaw {
	return async (password, salt, params, hashBytes) =>
		argon2idSync(module, password, salt, params, hashBytes);
}

export function argon2idSync(
	module: WebAssembly.Module,
	password: Uint8Array,
	salt: Uint8Array,
	params: Argon2Params,
	hashBytes: number,
): Uint8Array {
	const { memoryKiB, iterations, parallelism } = params;
	const wasm = new WebAssembly.Instance(module, {}).exports as unknown as Argon2Exports;
	// The last block holds the parameters the core reads; the blocks before it are the matrix.
	const total = memoryKiB * BLOCK + BLOCK;
	// The core places its buffer on first request, and sizing is relative to it: ask first.
	wasm.Hash_GetBuffer();
	wasm.Hash_SetMemorySize(total);
	const mem = new Uint8Array(wasm.memory.buffer, wasm.Hash_GetBuffer(), total);

	const init = new Uint8Array(24);
	const view = new DataView(init.buffer);
	view.setInt32(0, parallelism, true);
	view.setInt32(4, hashBytes, true);
	view.setInt32(8, memoryKiB, true);
	view.setInt32(12, iterations, true);
	view.setInt32(16, ARGON2_VERSION, true);
	view.setInt32(20, ARGON2ID, true);
	mem.set(init, memoryKiB * BLOCK);

	// RFC 9106 §3.2: H0 over the parameters, password, salt, (empty) secret and associated data.
	const h0 = blake2b(
		concat(init, le32(password.length), password, le32(salt.length), salt, le32(0), le32(0)),
		{ dkLen: 64 },
	);
	const laneLength = Math.floor(memoryKiB / (parallelism * 4)) * 4;
	for (let lane = 0; lane < parallelism; lane++) {
		for (const index of [0, 1]) {
			const block = hashPrime(concat(h0, le32(index), le32(lane)), BLOCK);
			mem.set(block, (lane * laneLength + index) * BLOCK);
		}
	}
	wasm.Hash_Calculate(0, memoryKiB, 0);
	// The core leaves the XOR of the lanes' last blocks at the start of the buffer.
	const finalBlock = new Uint8Array(wasm.memory.buffer, wasm.Hash_GetBuffer(), BLOCK).slice();
	return hashPrime(finalBlock, hashBytes);
}

/** RFC 9106 §3.3, H′: BLAKE2b stretched to `length` bytes. */
function hashPrime(input: Uint8Array, length: number): Uint8Array {
	const prefixed = concat(le32(length), input);
	if (length <= 64) return blake2b(prefixed, { dkLen: length });
	const out = new Uint8Array(length);
	const r = Math.ceil(length / 32) - 2;
	let v = blake2b(prefixed, { dkLen: 64 });
	out.set(v.subarray(0, 32), 0);
	for (let i = 1; i < r; i++) {
		v = blake2b(v, { dkLen: 64 });
		out.set(v.subarray(0, 32), i * 32);
	}
	const rest = length - 32 * r;
	out.set(blake2b(v, { dkLen: rest }), r * 32);
	return out;
}

function le32(n: number): Uint8Array {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setUint32(0, n, true);
	return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}
