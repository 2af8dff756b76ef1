/**
 * The public types of the `coditect` library. Declarations only: the build copies this file
 * verbatim into dist/lib.d.ts, so the published types cannot drift from the code.
 */

export type LicenseCode =
	| "VALID"
	/** The last payment failed: `licensed` while the payment grace lasts, not after it. */
	| "PAST_DUE"
	| "NOT_ACTIVATED"
	| "INVALID_TOKEN"
	| "FOREIGN_LICENSE"
	| "WRONG_HARDWARE"
	| "CLOCK_ROLLBACK"
	| "CLOCK_BEHIND"
	| "GRACE_EXPIRED"
	| "UNKNOWN_KEY"
	| "NOT_FOUND"
	| "EXPIRED"
	| "SUSPENDED"
	| "REVOKED"
	| "NO_HARDWARE_ID"
	| "MISCONFIGURED";

/** What `checkLicense` returns (docs/api.md §5), plus details the CLI prints. */
export interface LicenseCheck {
	licensed: boolean;
	code: LicenseCode;
	plan: string | null;
	/** End of the license itself (null: no end, e.g. a live subscription). */
	expires_at: string | null;
	/** Seconds until the token expires: how long the license holds without the network. */
	grace_remaining_s: number;
	/** True when the answer comes from the cached token without reaching the server now. */
	offline: boolean;
	/**
	 * True for an air-gapped machine's license (installed with `coditect activate
	 * --offline-response`): it is never revalidated online and holds until `token_expires_at`.
	 */
	offline_license: boolean;
	status: string | null;
	license_id: string | null;
	token_expires_at: string | null;
	last_online_at: string | null;
	/** not_needed | background (a detached refresh was started) | done | failed | skipped. */
	revalidation: "not_needed" | "background" | "done" | "failed" | "skipped";
	/** Set when an online attempt could not reach a verdict (network, 5xx, rate limit). */
	network_error: string | null;
	message: string;
}

export interface CheckLicenseOptions {
	/** CODITECT_HOME override. */
	home?: string;
	/** API URL override (otherwise CODITECT_API_URL, config.yaml, default). */
	apiUrl?: string;
	/**
	 * auto (default): no network for a fresh token, a background refresh for one over 24 h,
	 * an online attempt when there is no usable token. always: check online now. never: no
	 * network at all.
	 */
	online?: "auto" | "always" | "never";
	/** Command that runs a background refresh; defaults to this package's CLI. */
	refreshCommand?: readonly string[];
}
