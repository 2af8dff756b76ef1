/** Argon2id on Node: the native @node-rs/argon2 binding (prebuilt, no install script). */
import { hashRaw } from "@node-rs/argon2";
import type { Argon2idRaw } from "../accounts/password";

/** `Algorithm.Argon2id`; the package declares it as a `const enum`, which isolated modules cannot read. */
const ARGON2ID = 2;

export const argon2idNative: Argon2idRaw = async (password, salt, params, hashBytes) =>
	new Uint8Array(
		await hashRaw(password, {
			algorithm: ARGON2ID,
			salt,
			memoryCost: params.memoryKiB,
			timeCost: params.iterations,
			parallelism: params.parallelism,
			outputLen: hashBytes,
		}),
	);
