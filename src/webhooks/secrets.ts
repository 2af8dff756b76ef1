/**
 * Endpoint signing secrets at rest (docs/webhooks.md §6): sealed with the secret box under
 * LICENSE_KEY_PEPPER and its own HKDF label, the endpoint id as associated data. The pepper,
 * not a new WEBHOOK_SECRET_KEY: it is already a required secret on both entries and already
 * the root of the SSO box, and HKDF's label gives this purpose a key of its own. A separate
 * setting would be one more secret every deployment must add before it can start, for no key
 * that is independent in any way that matters (a leaked pepper already breaks license keys).
 *
 * Both slots (current, previous) of an endpoint are sealed under its id, so a rotation moves
 * the sealed current value into `secret_previous` as it is.
 */
import { openWith, sealWith, WEBHOOK_SIGNING_SECRET_LABEL } from "../sso/secret-box";

/** Rows written before migration 0010 hold the secret itself, always `whsec_…`. */
const LEGACY_PLAINTEXT = /^whsec_[0-9a-f]{64}$/;

export interface EndpointSecrets {
	seal(endpointId: string, secret: string): Promise<string>;
	/**
	 * The secret, or null when the stored value does not open (tampered, another endpoint's,
	 * another pepper's). `legacy` says it was stored in the clear and should be sealed now.
	 */
	open(endpointId: string, stored: string): Promise<{ secret: string; legacy: boolean } | null>;
}

export function endpointSecrets(pepper: string): EndpointSecrets {
	return {
		seal: (endpointId, secret) =>
			sealWith(WEBHOOK_SIGNING_SECRET_LABEL, pepper, endpointId, secret),
		async open(endpointId, stored) {
			if (LEGACY_PLAINTEXT.test(stored)) return { secret: stored, legacy: true };
			const secret = await openWith(WEBHOOK_SIGNING_SECRET_LABEL, pepper, endpointId, stored);
			return secret === null ? null : { secret, legacy: false };
		},
	};
}
