/**
 * Billing for one request. Stripe is built only when a billing route asks for it, and a server
 * without STRIPE_SECRET_KEY (or, for the webhook, STRIPE_WEBHOOK_SECRET) answers 503
 * BILLING_NOT_CONFIGURED instead of failing later.
 */
import type { RequestMeta } from "../audit/log";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { apiError } from "../errors";
import { type CheckoutService, checkoutService } from "./checkout";
import { type Stripe, stripeFromSettings } from "./stripe-client";
import { type WebhookService, webhookService } from "./webhook";

export interface Billing {
	checkout(): CheckoutService;
	webhooks(): WebhookService;
}

export function billing(deps: {
	db: Database;
	config: Config;
	meta: RequestMeta;
	requestId: string;
}): Billing {
	const { settings } = deps.config;
	let client: Stripe | null | undefined;
	const stripe = (): Stripe => {
		client ??= stripeFromSettings(settings);
		if (!client) throw apiError("BILLING_NOT_CONFIGURED");
		return client;
	};
	return {
		checkout: () =>
			checkoutService({
				db: deps.db,
				stripe: stripe(),
				meta: deps.meta,
				publicUrl: deps.config.issuer,
				requestId: deps.requestId,
			}),
		webhooks: () => {
			const webhookSecret = settings.STRIPE_WEBHOOK_SECRET;
			if (!webhookSecret) throw apiError("BILLING_NOT_CONFIGURED");
			return webhookService({
				db: deps.db,
				stripe: stripe(),
				webhookSecret,
				config: deps.config,
				graceDays: settings.PAYMENT_GRACE_DAYS,
				meta: deps.meta,
				requestId: deps.requestId,
			});
		},
	};
}
