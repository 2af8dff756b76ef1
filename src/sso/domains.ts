/**
 * Which email domains an org's provider may sign in: the pure rules (normalising a domain,
 * the verification token and the TXT record that proves it) shared by the routes and login.
 */
import type { TxtResolver } from "./resolver";

export const TXT_PREFIX = "coditect-verification=";
/** Where the record goes: a label of its own, so it never collides with the apex's SPF etc. */
export const RECORD_LABEL = "_coditect";

/**
 * A lower-cased host name of at least two labels, ASCII only (IDNs in their `xn--` form),
 * each label 1–63 letters, digits or inner hyphens; null for anything else.
 */
export function normalizeDomain(input: string): string | null {
	const d = input.trim().toLowerCase().replace(/\.$/, "");
	if (d.length > 253) return null;
	const labels = d.split(".");
	if (labels.length < 2) return null;
	const ok = labels.every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
	if (!ok || /^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return null;
	return d;
}

/** The domain part of an address, normalised; null when it is not a usable domain. */
export function domainOfEmail(email: string): string | null {
	const at = email.lastIndexOf("@");
	return at < 0 ? null : normalizeDomain(email.slice(at + 1));
}

/** 128 random bits, base32-lowercase: safe in any DNS console. */
export function newVerificationToken(): string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
	let s = "";
	for (const b of crypto.getRandomValues(new Uint8Array(26))) s += alphabet[b & 31];
	return s;
}

export function verificationRecord(domain: string, token: string): { name: string; value: string } {
	return { name: `${RECORD_LABEL}.${domain}`, value: `${TXT_PREFIX}${token}` };
}

export type VerifyOutcome = "verified" | "record_missing" | "lookup_failed";

/** Looks the record up; exact match of the whole TXT string, surrounding space ignored. */
export async function checkVerificationRecord(
	resolver: TxtResolver,
	domain: string,
	token: string,
): Promise<VerifyOutcome> {
	const { name, value } = verificationRecord(domain, token);
	let records: string[];
	try {
		records = await resolver.resolveTxt(name);
	} catch {
		return "lookup_failed";
	}
	return records.some((r) => r.trim() === value) ? "verified" : "record_missing";
}
