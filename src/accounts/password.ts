/**
 * Password hashing: Argon2id stored as PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
 * so the parameters travel with each hash and can rise later (rehash on the next login).
 *
 * The Argon2 core differs by runtime (WASM module in workerd, native binding on Node; see the
 * entry points); everything else — encoding, parsing, comparison, policy — lives here so both
 * runtimes produce and accept exactly the same strings.
 */

/** OWASP's minimum for Argon2id (m=19 MiB, t=2, p=1). */
export const ARGON2_POLICY: Argon2Params = { memoryKiB: 19_456, iterations: 2, parallelism: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;

export interface Argon2Params {
	memoryKiB: number;
	iterations: number;
	parallelism: number;
}

/** Raw Argon2id: the only part that needs a platform implementation. */
export type Argon2idRaw = (
	password: Uint8Array,
	salt: Uint8Array,
	params: Argon2Params,
	hashBytes: number,
) => Promise<Uint8Array>;

export interface PasswordHasher {
	hash(password: string): Promise<string>;
	/** False for a wrong password and for anything that is not an Argon2id PHC string we accept. */
	verify(phc: string, password: string): Promise<boolean>;
	/** True when `phc` was made with weaker parameters than the current policy. */
	needsRehash(phc: string): boolean;
	/** Spends one hash's time on nothing, so an unknown account costs what a known one does. */
	burn(password: string): Promise<void>;
}

interface ParsedPhc {
	params: Argon2Params;
	salt: Uint8Array;
	hash: Uint8Array;
}

/** Bounds on what we agree to compute for a stored hash (a tampered row must not DoS us). */
const LIMITS = { maxMemoryKiB: 262_144, maxIterations: 16, maxParallelism: 8 };

export function passwordHasher(
	raw: Argon2idRaw,
	policy: Argon2Params = ARGON2_POLICY,
): PasswordHasher {
	const encoder = new TextEncoder();
	// A fixed, valid hash verified against when the account does not exist: same parameters,
	// same work, never matches anything worth having.
	let dummy: Promise<string> | undefined;

	async function hash(password: string): Promise<string> {
		const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
		const out = await raw(encoder.encode(password), salt, policy, HASH_BYTES);
		return encodePhc({ params: policy, salt, hash: out });
	}

	async function verify(phc: string, password: string): Promise<boolean> {
		const parsed = parsePhc(phc);
		if (!parsed) return false;
		const out = await raw(encoder.encode(password), parsed.salt, parsed.params, parsed.hash.length);
		return constantTimeEqual(out, parsed.hash);
	}

	return {
		hash,
		verify,
		needsRehash(phc) {
			const parsed = parsePhc(phc);
			if (!parsed) return true;
			const p = parsed.params;
			return (
				p.memoryKiB < policy.memoryKiB ||
				p.iterations < policy.iterations ||
				parsed.hash.length < HASH_BYTES
			);
		},
		async burn(password) {
			dummy ??= hash("not a real password: timing equaliser");
			await verify(await dummy, password);
		},
	};
}

export function encodePhc(p: ParsedPhc): string {
	const { memoryKiB, iterations, parallelism } = p.params;
	return `$argon2id$v=19$m=${memoryKiB},t=${iterations},p=${parallelism}$${b64(p.salt)}$${b64(p.hash)}`;
}

const PHC =
	/^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,64})\$([A-Za-z0-9+/]{22,128})$/;

export function parsePhc(phc: string): ParsedPhc | null {
	const m = PHC.exec(phc);
	if (!m) return null;
	const params = { memoryKiB: Number(m[1]), iterations: Number(m[2]), parallelism: Number(m[3]) };
	if (
		params.iterations < 1 ||
		params.iterations > LIMITS.maxIterations ||
		params.parallelism < 1 ||
		params.parallelism > LIMITS.maxParallelism ||
		params.memoryKiB < 8 * params.parallelism ||
		params.memoryKiB > LIMITS.maxMemoryKiB
	) {
		return null;
	}
	const salt = unb64(m[4] ?? "");
	const hash = unb64(m[5] ?? "");
	if (!salt || !hash || salt.length < 8 || hash.length < 16) return null;
	return { params, salt, hash };
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
	return diff === 0;
}

/** PHC strings use standard base64 without padding. */
function b64(bytes: Uint8Array): string {
	let bin = "";
	for (const b of bytes) bin += String.fromCharCode(b);
	return btoa(bin).replace(/=+$/, "");
}

function unb64(s: string): Uint8Array | null {
	if (s.length % 4 === 1) return null;
	try {
		const bin = atob(s + "=".repeat((4 - (s.length % 4)) % 4));
		return Uint8Array.from(bin, (c) => c.charCodeAt(0));
	} catch {
		return null;
	}
}
