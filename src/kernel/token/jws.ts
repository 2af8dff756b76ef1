/**
 * Compact JWS serialisation (RFC 7515) as license tokens use it: three base64url segments,
 * JSON header and payload. Parsing never throws: anything malformed is null.
 */
import { decodeBase64Url, decodeUtf8, encodeUtf8Base64Url } from "../base64url";

/** The only JWS algorithm license tokens use (RFC 8037). */
export const JWS_ALGORITHM = "EdDSA";
/**
 * Longest token `verifyLicenseToken` will look at. Real tokens are about 700 characters;
 * the cap bounds the work an attacker-supplied string can cause.
 */
export const MAX_LICENSE_TOKEN_LENGTH = 4096;

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function encodeJsonSegment(value: unknown): string {
	return encodeUtf8Base64Url(JSON.stringify(value));
}

export interface CompactJws {
	headerSegment: string;
	payloadSegment: string;
	header: Uint8Array<ArrayBuffer>;
	payload: Uint8Array<ArrayBuffer>;
	signature: Uint8Array<ArrayBuffer>;
}

export function splitCompactJws(token: unknown): CompactJws | null {
	if (typeof token !== "string" || token.length > MAX_LICENSE_TOKEN_LENGTH) return null;
	const segments = token.split(".");
	if (segments.length !== 3) return null;
	const [headerSegment = "", payloadSegment = "", signatureSegment = ""] = segments;
	if (headerSegment === "" || payloadSegment === "") return null;
	try {
		return {
			headerSegment,
			payloadSegment,
			header: decodeBase64Url(headerSegment),
			payload: decodeBase64Url(payloadSegment),
			signature: decodeBase64Url(signatureSegment),
		};
	} catch {
		return null;
	}
}

export function parseJsonBytes(bytes: Uint8Array): unknown {
	try {
		return JSON.parse(decodeUtf8(bytes));
	} catch {
		return undefined;
	}
}
