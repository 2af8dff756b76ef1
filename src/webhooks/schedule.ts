/**
 * Running deliveries: a timer on the Node entry, a cron tick on the Worker (src/worker.ts).
 * Several instances may all run it: claiming (deliver.ts) keeps them off each other's rows.
 */
import type { Database } from "../db/client";
import { deliverDue } from "./deliver";
import type { EndpointSecrets } from "./secrets";
import { PRODUCTION_POLICY, type UrlPolicy } from "./ssrf";

/** `WEBHOOK_DEV_URLS=true` (dev and test only): http and loopback receivers are allowed. */
export function urlPolicyFor(devUrls: "true" | "false"): UrlPolicy {
	return devUrls === "true" ? { httpsOnly: false, allowLoopback: true } : PRODUCTION_POLICY;
}

/** Claims batches until a run comes back short, so a backlog drains within one tick. */
export async function drainOutbox(
	db: Database,
	policy: UrlPolicy,
	secrets: EndpointSecrets,
	opts: { maxRuns?: number; fetch?: typeof fetch } = {},
): Promise<number> {
	const batch = 50;
	let delivered = 0;
	for (let run = 0; run < (opts.maxRuns ?? 20); run++) {
		const report = await deliverDue(db, {
			policy,
			batch,
			secrets,
			...(opts.fetch ? { fetch: opts.fetch } : {}),
		});
		delivered += report.delivered;
		if (report.claimed < batch) break;
	}
	return delivered;
}

export function scheduleWebhookDelivery(
	db: Database,
	policy: UrlPolicy,
	secrets: EndpointSecrets,
	/** `fetch`: the Node entry's DNS-checking one (src/node/webhook-fetch.ts). */
	opts: { everyMs?: number; fetch?: typeof fetch } = {},
): () => void {
	let running = false;
	const tick = (): void => {
		if (running) return;
		running = true;
		drainOutbox(db, policy, secrets, opts.fetch ? { fetch: opts.fetch } : {})
			.catch((err: unknown) => {
				console.error("webhook delivery failed:", err instanceof Error ? err.message : err);
			})
			.finally(() => {
				running = false;
			});
	};
	const timer = setInterval(tick, opts.everyMs ?? 15_000);
	timer.unref();
	return () => clearInterval(timer);
}
