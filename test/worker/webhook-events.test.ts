/**
 * Seat and CI events through the Worker on the run's Postgres: which change queues which event,
 * for whose endpoints (the org's own and the operator's, never another org's), in the change's
 * transaction, and `ci.lease_limit_reached` at most once per org per window however many
 * refusals. Delivery itself is test/node/webhooks.test.ts and test/worker/webhook-cron.test.ts.
 */
import { describe, expect, it } from "vitest";
import { checkout, createUser, deliverAll, stripeSide } from "../support/billing";
import { apiKeyFor, orgWithLicense } from "../support/ci";
import { sql } from "../support/database";
import { type SessionUser, sessionUser } from "../support/sessions";
import { bearer, call, mailsTo } from "../support/worker-client";

type Json = Record<string, unknown>;

async function orgHook(orgId: string, owner: Record<string, string>, events: string[]) {
	const res = await call<{ endpoint: { id: string } }>(`/api/v1/orgs/${orgId}/webhooks`, {
		json: { url: `https://hooks.example.com/${crypto.randomUUID()}`, events },
		headers: owner,
	});
	expect(res.status, res.text).toBe(201);
	return res.body.endpoint.id;
}

/** What the outbox holds for `endpointId`, oldest first. */
async function queued(endpointId: string) {
	const rows = await sql<{ event_type: string; event_id: string; payload: string }>(
		"select event_type, event_id::text, payload::text from webhook_outbox where endpoint_id = $1 order by created_at, event_type",
		[endpointId],
	);
	return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as Json }));
}

async function join(orgId: string, owner: Record<string, string>): Promise<SessionUser> {
	const member = await sessionUser("seat-member");
	const invited = await call(`/api/v1/orgs/${orgId}/invitations`, {
		json: { email: member.email, role: "member" },
		headers: owner,
	});
	expect(invited.status, invited.text).toBe(201);
	const code = (await mailsTo(member.email)).at(-1)?.text.match(/ORG-[0-9A-Z-]+/)?.[0];
	if (!code) throw new Error(`no invitation mailed to ${member.email}`);
	const accepted = await call("/api/v1/invitations/accept", {
		json: { code },
		headers: bearer(member.accessToken),
	});
	expect(accepted.status, accepted.text).toBe(201);
	return member;
}

describe("seat events", () => {
	it("queues seat.assigned on a join and seat.released on a removal and on leaving, for the org's endpoint only", async () => {
		const org = await orgWithLicense("team");
		await sql("update licenses set seats = 5 where id = $1", [org.licenseId]);
		const other = await orgWithLicense("team");
		const hook = await orgHook(org.orgId, org.owner, ["seat.assigned", "seat.released"]);
		const deaf = await orgHook(org.orgId, org.owner, ["license.created"]);
		const foreign = await orgHook(other.orgId, other.owner, ["seat.assigned", "seat.released"]);

		const removed = await join(org.orgId, org.owner);
		const leaver = await join(org.orgId, org.owner);
		const [seat] = await sql<{ id: string }>(
			"select id from org_members where org_id = $1 and user_id = $2",
			[org.orgId, removed.id],
		);
		const kick = await call(`/api/v1/orgs/${org.orgId}/members/${removed.id}`, {
			method: "DELETE",
			headers: org.owner,
		});
		expect(kick.status, kick.text).toBe(200);
		const leave = await call(`/api/v1/orgs/${org.orgId}/members/${leaver.id}`, {
			method: "DELETE",
			headers: bearer(leaver.accessToken),
		});
		expect(leave.status, leave.text).toBe(200);
		// A refused removal (the last owner) changes no seat and queues nothing.
		const [owner] = await sql<{ user_id: string }>(
			"select user_id from org_members where org_id = $1 and role = 'owner'",
			[org.orgId],
		);
		const last = await call(`/api/v1/orgs/${org.orgId}/members/${owner?.user_id}`, {
			method: "DELETE",
			headers: org.owner,
		});
		expect(last.status).toBe(409);

		const events = await queued(hook);
		expect(events.map((e) => e.event_type)).toEqual([
			"seat.assigned",
			"seat.assigned",
			"seat.released",
			"seat.released",
		]);
		expect(events[0]?.payload).toMatchObject({
			type: "seat.assigned",
			org_id: org.orgId,
			data: {
				seat_id: seat?.id,
				org_id: org.orgId,
				user_id: removed.id,
				role: "member",
				via: "invitation",
			},
		});
		expect(events[2]?.payload.data).toMatchObject({
			seat_id: seat?.id,
			user_id: removed.id,
			reason: "removed",
			machines_freed: 0,
		});
		expect(events[3]?.payload.data).toMatchObject({ user_id: leaver.id, reason: "left" });
		expect(new Set(events.map((e) => e.event_id)).size).toBe(4);
		expect(await queued(deaf)).toEqual([]);
		expect(await queued(foreign)).toEqual([]);
	});
});

describe("seats bought in Stripe", () => {
	it("queue license.updated with the seat change when the subscription's quantity changes", async () => {
		const buyer = await createUser("hookbuyer");
		const { subscriptionId, events } = await checkout(buyer, { plan: "team", seats: 7 });
		await deliverAll(events);
		const [license] = await sql<{ id: string; org_id: string }>(
			"select id, org_id from licenses where stripe_subscription_id = $1",
			[subscriptionId],
		);
		const hook = await orgHook(license?.org_id ?? "", bearer(buyer.token), ["license.updated"]);
		const lowered = await stripeSide(`subscriptions/${subscriptionId}/change-quantity`, {
			quantity: 2,
		});
		await deliverAll(lowered.events);
		const updates = await queued(hook);
		expect(updates.map((e) => e.payload)).toEqual([
			expect.objectContaining({
				type: "license.updated",
				org_id: license?.org_id,
				data: {
					id: license?.id,
					source: "stripe",
					changes: {
						seats: { from: 7, to: 2 },
						max_activations: { from: 21, to: 6 },
					},
				},
			}),
		]);
		// The same state delivered again (Stripe retries) changes nothing and queues nothing.
		await deliverAll(lowered.events);
		expect(await queued(hook)).toHaveLength(1);
	});
});

describe("ci.lease_limit_reached", () => {
	async function lease(key: string, jobId: string) {
		return call<{ error: Json }>("/api/v1/ci/leases", {
			json: { job_id: jobId, ttl_s: 300 },
			headers: bearer(key),
		});
	}

	it("queues one event per org per 10 minutes however many refusals, for the org's and the operator's endpoints", async () => {
		const org = await orgWithLicense("smb"); // 5 runners
		const other = await orgWithLicense("smb");
		const hook = await orgHook(org.orgId, org.owner, ["ci.lease_limit_reached"]);
		const foreign = await orgHook(other.orgId, other.owner, ["ci.lease_limit_reached"]);
		const op = await call<{ endpoint: { id: string } }>("/api/v1/admin/webhooks", {
			json: {
				url: `https://ops.example.com/${crypto.randomUUID()}`,
				events: ["ci.lease_limit_reached"],
			},
			admin: true,
		});
		expect(op.status, op.text).toBe(201);
		const operator = op.body.endpoint.id;
		try {
			const key = await apiKeyFor(org);
			for (let i = 0; i < 5; i++) expect((await lease(key, `job-${i}`)).status).toBe(201);
			// A storm: refusals at once, all audited, one event between them.
			const refused = await Promise.all(
				Array.from({ length: 8 }, (_, i) => lease(key, `storm-${i}`)),
			);
			for (const r of refused) expect(r.body.error?.code).toBe("CI_CONCURRENCY_LIMIT");
			const [denials] = await sql<{ n: number }>(
				"select count(*)::int as n from audit_logs where action = 'ci_lease_denied' and detail->>'org_id' = $1",
				[org.orgId],
			);
			expect(denials?.n).toBe(8);
			const events = await queued(hook);
			expect(events).toHaveLength(1);
			expect(events[0]?.payload).toMatchObject({
				type: "ci.lease_limit_reached",
				org_id: org.orgId,
				data: { org_id: org.orgId, limit: 5, active: 5 },
			});
			expect(events[0]?.payload.data).toHaveProperty("next_free_at");
			expect(events[0]?.payload.data).toHaveProperty("job_id");
			// The operator's copy is the same event (same id), the other org hears nothing.
			const mine = (await queued(operator)).filter((e) => e.payload.org_id === org.orgId);
			expect(mine.map((e) => e.event_id)).toEqual([events[0]?.event_id]);
			expect(await queued(foreign)).toEqual([]);

			// Once the window has passed, the next refusal queues the next event.
			await sql(
				"update webhook_event_throttle set last_at = last_at - interval '11 minutes' where org_id = $1",
				[org.orgId],
			);
			expect((await lease(key, "after-window")).status).toBe(409);
			expect(await queued(hook)).toHaveLength(2);
		} finally {
			await call(`/api/v1/admin/webhooks/${operator}`, { method: "DELETE", admin: true });
		}
	});
});
