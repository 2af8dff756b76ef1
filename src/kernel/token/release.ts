/**
 * The release receipt of an air-gapped machine (docs/offline-activation.md): a compact JWS
 * signed by the machine's own Ed25519 key, whose public half the server stored when the
 * machine's request was uploaded. The server's key never reaches the machine, so this is what
 * lets an offline machine prove "I deleted my license" to the server.
 */
import { encodeJsonSegment, isJsonObject, JWS_ALGORITHM } from "./jws";

/** The JWS `typ` of a release receipt: pinned, so no license or CI token passes as one. */
export const RELEASE_RECEIPT_TYPE = "coditect-offline-release+jwt";

/** What a receipt says. Times are seconds since the epoch (informational: the machine's clock). */
export interface ReleaseReceiptClaims {
	/** The license id (`lic_…`). */
	sub: string;
	/** The activation being released (`act_…`). */
	act: string;
	/** The machine's hardware id. */
	hwid: string;
	/** The nonce of the offline token that was installed, and deleted. */
	nonce: string;
	iat: number;
}

function isShortString(value: unknown): value is string {
	return typeof value === "string" && value.length > 0 && value.length <= 128;
}

/** The receipt's claims in a fixed order, or null for any other shape. */
export function readReleaseClaims(value: unknown): ReleaseReceiptClaims | null {
	if (!isJsonObject(value)) return null;
	const { sub, act, hwid, nonce, iat } = value;
	if (!isShortString(sub) || !isShortString(act) || !isShortString(hwid)) return null;
	if (!isShortString(nonce)) return null;
	if (typeof iat !== "number" || !Number.isSafeInteger(iat) || iat < 0) return null;
	return { sub, act, hwid, nonce, iat };
}

/**
 * The JWS signing input of a receipt (`header.payload`): the machine signs it with its own
 * key, whatever crypto it has (the CLI uses node:crypto), and appends `.` + the signature.
 */
export function releaseSigningInput(kid: string, claims: ReleaseReceiptClaims): string {
	const header = { alg: JWS_ALGORITHM, typ: RELEASE_RECEIPT_TYPE, kid };
	const payload = readReleaseClaims(claims);
	if (payload === null) throw new TypeError("release receipt claims are malformed");
	return `${encodeJsonSegment(header)}.${encodeJsonSegment(payload)}`;
}
