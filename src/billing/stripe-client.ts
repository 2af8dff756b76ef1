/**
 * The Stripe SDK, configured the same on Workers and Node: fetch for HTTP (Node's http module
 * does not exist in workerd), WebCrypto for webhook signatures, and STRIPE_API_BASE to point
 * it at a local fake in development and tests.
 */
import Stripe from "stripe";
import type { Settings } from "../env";
import { ApiError } from "../errors";

export { Stripe };

/**
 * Short timeouts and one retry: the webhook calls Stripe while holding a database transaction
 * (statement and idle-in-transaction timeouts are 10 s and 15 s).
 */
export function createStripeClient(
	secretKey: string,
	apiBase: string | undefined,
	fetchFn?: typeof fetch,
): Stripe {
	const base = apiBase ? new URL(apiBase) : null;
	return new Stripe(secretKey, {
		httpClient: Stripe.createFetchHttpClient(fetchFn),
		maxNetworkRetries: 1,
		timeout: 5_000,
		telemetry: false,
		...(base
			? {
					host: base.hostname,
					port: base.port || (base.protocol === "http:" ? 80 : 443),
					protocol: base.protocol === "http:" ? "http" : "https",
				}
			: {}),
	});
}

/** A Stripe client from the settings, or null when billing is not configured. */
export function stripeFromSettings(settings: Settings): Stripe | null {
	if (!settings.STRIPE_SECRET_KEY) return null;
	return createStripeClient(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE);
}

export const webCrypto = Stripe.createSubtleCryptoProvider();

/** Stripe's answer to "no such object" (a 404 `resource_missing`). */
export function isMissing(err: unknown): boolean {
	return err instanceof Stripe.errors.StripeError && err.statusCode === 404;
}

/**
 * Any other Stripe failure leaves as 502: the cause is upstream, and for the webhook a 5xx makes
 * Stripe deliver the event again. Stripe's message stays in the log (it may name our objects).
 */
export function upstreamError(err: unknown, requestId: string): ApiError {
	const detail =
		err instanceof Stripe.errors.StripeError
			? `${err.type} ${err.statusCode ?? "-"} ${err.code ?? ""}`
			: err instanceof Error
				? err.name
				: "unknown";
	console.error(`[${requestId}] Stripe request failed: ${detail}`);
	return new ApiError("BAD_GATEWAY", "The payment provider did not answer. Try again shortly.");
}
