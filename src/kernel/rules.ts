/**
 * Whether a license may be used right now. Pure, shared by the server's validate/activate and
 * by anything else that needs the same answer. A failed check is a result, not an exception.
 */

export type ValidationCode =
	| "VALID"
	| "NOT_FOUND"
	| "EXPIRED"
	| "SUSPENDED"
	| "REVOKED"
	| "PAST_DUE"
	| "NOT_ACTIVATED";

export interface LicenseState {
	status: "active" | "past_due" | "suspended" | "expired" | "revoked";
	/** End of the paid or granted period; null = no end. */
	expiresAt: Date | null;
	/** End of the payment grace while past_due. */
	graceUntil: Date | null;
}

export interface Usability {
	usable: boolean;
	code: Exclude<ValidationCode, "NOT_FOUND" | "NOT_ACTIVATED">;
	/** The instant after which the answer turns false by itself (bounds token lifetime). */
	usableUntil: Date | null;
}

/** Revocation and suspension win over dates; a past_due license holds until its grace ends. */
export function evaluateLicense(state: LicenseState, now: Date): Usability {
	switch (state.status) {
		case "revoked":
			return { usable: false, code: "REVOKED", usableUntil: null };
		case "suspended":
			return { usable: false, code: "SUSPENDED", usableUntil: null };
		case "expired":
			return { usable: false, code: "EXPIRED", usableUntil: null };
		case "past_due": {
			const end = earliest(state.graceUntil, state.expiresAt);
			if (end !== null && end.getTime() <= now.getTime()) {
				return {
					usable: false,
					code: state.expiresAt && state.expiresAt <= now ? "EXPIRED" : "PAST_DUE",
					usableUntil: null,
				};
			}
			return { usable: true, code: "PAST_DUE", usableUntil: end };
		}
		case "active": {
			if (state.expiresAt !== null && state.expiresAt.getTime() <= now.getTime()) {
				return { usable: false, code: "EXPIRED", usableUntil: null };
			}
			return { usable: true, code: "VALID", usableUntil: state.expiresAt };
		}
	}
}

function earliest(a: Date | null, b: Date | null): Date | null {
	if (a === null) return b;
	if (b === null) return a;
	return a.getTime() <= b.getTime() ? a : b;
}
