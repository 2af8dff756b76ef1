// Random bytes drawn in blocks: one getRandomValues per 4 KiB instead of one per id or jti
// (a validate needs three ids and a jti; the per-call cost dominated on Node). The bytes are
// the platform CSPRNG's, each handed out once.
const POOL_SIZE = 4096;
let pool = new Uint8Array(0);
let offset = POOL_SIZE;

/** `n` fresh random bytes (n ≤ 4096); a view into the pool, to be read right away, not kept. */
export function randomBytes(n: number): Uint8Array {
	if (offset + n > pool.length) {
		pool = crypto.getRandomValues(new Uint8Array(POOL_SIZE));
		offset = 0;
	}
	const out = pool.subarray(offset, offset + n);
	offset += n;
	return out;
}
