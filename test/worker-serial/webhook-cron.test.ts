/**
 * The Worker's one-minute cron (src/worker.ts `scheduled`) delivering the outbox inside workerd
 * to a real receiver on the run's loopback (test/support/webhook-receiver-setup.ts). In this
 * project, which runs alone: a cron run drains every due row of the database, and no other
 * file's deliveries should race it.
 */
import {
	createExecutionContext,
	createScheduledController,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env as testEnv } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { newId } from "../../src/ids";
import { verifySignature } from "../../src/webhooks/sign";
import worker from "../../src/worker";
import { sql } from "../support/database";
import type { ReceivedWebhook } from "../support/webhook-receiver-setup";
import { createLicense } from "../support/worker-client";

const base = testEnv as unknown as Record<string, unknown>;
/** `wrangler dev`-like: PUBLIC_URL is http (as in every test), dev URLs on. */
const devEnv = { ...base, WEBHOOK_DEV_URLS: "true" };
/** A deployment's PUBLIC_URL: dev URLs must not count, whatever the setting says. */
const deployedEnv = { ...devEnv, PUBLIC_URL: "https://license.example.com" };

async function cron(env: Record<string, unknown>, schedule = "* * * * *"): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(
		createScheduledController({ cron: schedule, scheduledTime: Date.now() }),
		env,
		ctx,
	);
	await waitOnExecutionContext(ctx);
}

async function receivedAt(path: string): Promise<ReceivedWebhook[]> {
	const res = await fetch(
		`${inject("webhookReceiver")}/_received?path=${encodeURIComponent(path)}`,
	);
	return ((await res.json()) as { received: ReceivedWebhook[] }).received;
}

/** Through the Worker itself with `env` (the default export's bindings have dev URLs off). */
async function callWith(env: Record<string, unknown>, path: string, json: unknown) {
	const res = await worker.fetch(
		new Request(`http://license.test${path}`, {
			method: "POST",
			headers: {
				"content-type": "application/json",
				authorization: `Bearer ${inject("adminToken")}`,
				"cf-connecting-ip": "203.0.113.9",
			},
			body: JSON.stringify(json),
		}),
		env,
		createExecutionContext(),
	);
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the Worker's webhook cron", () => {
	it("delivers a queued event signed to a local receiver, under dev URL rules only while PUBLIC_URL is http", async () => {
		const orgId = newId("org");
		await sql("insert into orgs (id, name) values ($1, 'Cron Inc')", [orgId]);
		const path = `/cron/${crypto.randomUUID()}`;
		const url = `${inject("webhookReceiver")}${path}`;

		// A deployment refuses the loopback URL at registration, whatever WEBHOOK_DEV_URLS says.
		const refused = await callWith(deployedEnv, "/api/v1/admin/webhooks", {
			url,
			events: ["license.created"],
		});
		expect(refused.status).toBe(400);
		const made = await callWith(devEnv, "/api/v1/admin/webhooks", {
			url,
			events: ["license.created"],
		});
		expect(made.status, JSON.stringify(made.body)).toBe(201);
		const endpoint = made.body.endpoint as { id: string };
		const secret = made.body.secret as string;
		try {
			const { id: licenseId } = await createLicense({ plan: "team", org_id: orgId });
			const [queued] = await sql<{ event_id: string }>(
				"select event_id::text from webhook_outbox where endpoint_id = $1",
				[endpoint.id],
			);
			expect(queued).toBeDefined();

			// The audit-retention schedule delivers nothing.
			await cron(devEnv, "17 3 * * *");
			expect(await receivedAt(path)).toHaveLength(0);

			// Deployed rules: the loopback URL is refused at send time too; the row waits to retry.
			await cron(deployedEnv);
			expect(await receivedAt(path)).toHaveLength(0);
			const [failed] = await sql<{ attempts: number; last_error: string; delivered: boolean }>(
				"select attempts, last_error, delivered_at is not null as delivered from webhook_outbox where endpoint_id = $1",
				[endpoint.id],
			);
			expect(failed).toEqual({ attempts: 1, last_error: "scheme_not_allowed", delivered: false });

			await sql("update webhook_outbox set next_attempt_at = now() where endpoint_id = $1", [
				endpoint.id,
			]);
			await cron(devEnv);
			const got = await receivedAt(path);
			expect(got).toHaveLength(1);
			const [delivery] = got as [ReceivedWebhook];
			expect(await verifySignature(secret, delivery.body, delivery.signature)).toMatchObject({
				ok: true,
			});
			expect(delivery.userAgent).toBe("coditect-webhooks/1");
			expect(JSON.parse(delivery.body)).toMatchObject({
				id: queued?.event_id,
				type: "license.created",
				org_id: orgId,
				data: { id: licenseId },
			});
			const [done] = await sql<{ attempts: number; last_status: number; delivered: boolean }>(
				"select attempts, last_status, delivered_at is not null as delivered from webhook_outbox where endpoint_id = $1",
				[endpoint.id],
			);
			expect(done).toEqual({ attempts: 2, last_status: 200, delivered: true });

			// A delivered row is not sent again by the next tick.
			await cron(devEnv);
			expect(await receivedAt(path)).toHaveLength(1);
		} finally {
			await sql("update webhook_endpoints set disabled_at = now() where id = $1", [endpoint.id]);
		}
	});
});
