/**
 * Teams in workerd against real Postgres: an org licensed by the operator or by a team
 * checkout, invitations that take named seats, members activating under their seat, roles,
 * removal, and seats following the Stripe quantity.
 */
import { describe, expect, it } from "vitest";
import { decodeLicenseTokenUnverified } from "../../src/kernel/token/claims";
import { checkout, createUser, deliverAll, stripeSide } from "../support/billing";
import { sql } from "../support/database";
import { type SessionUser, sessionUser } from "../support/sessions";
import { bearer, call, hardwareId, mailsTo } from "../support/worker-client";

async function newOrg(owner: SessionUser, name = "Acme"): Promise<string> {
	const res = await call<{ id: string }>("/api/v1/orgs", {
		json: { name },
		headers: bearer(owner.accessToken),
	});
	expect(res.status, res.text).toBe(201);
	return res.body.id;
}

/** An org of `owner` with an operator-granted team license of `seats` seats. */
async function licensedOrg(
	owner: SessionUser,
	seats: number,
): Promise<{ orgId: string; licenseId: string }> {
	const orgId = await newOrg(owner);
	const res = await call<{ license: { id: string } }>("/api/v1/admin/licenses", {
		json: { plan: "team", owner_email: owner.email, org_id: orgId, seats },
		admin: true,
	});
	expect(res.status, res.text).toBe(201);
	return { orgId, licenseId: res.body.license.id };
}

async function invitationCode(orgId: string, by: SessionUser, email: string, role = "member") {
	const res = await call(`/api/v1/orgs/${orgId}/invitations`, {
		json: { email, role },
		headers: bearer(by.accessToken),
	});
	expect(res.status, res.text).toBe(201);
	expect(JSON.stringify(res.body)).not.toMatch(/ORG-/);
	const mails = await mailsTo(email);
	const code = mails.at(-1)?.text.match(/ORG-[0-9A-Z-]+/)?.[0];
	if (!code) throw new Error(`no invitation mailed to ${email}`);
	return code;
}

async function join(orgId: string, owner: SessionUser, label = "member"): Promise<SessionUser> {
	const member = await sessionUser(label);
	const code = await invitationCode(orgId, owner, member.email);
	const res = await call("/api/v1/invitations/accept", {
		json: { code },
		headers: bearer(member.accessToken),
	});
	expect(res.status, res.text).toBe(201);
	return member;
}

interface Dashboard {
	seats: { total: number; used: number; over_by: number };
	members: Array<{ user_id: string; role: string; seat_id: string; machines: unknown[] }>;
	license: { id: string; seats: number; max_activations: number } | null;
	ci: { limit: number; active: number; last_30_days: number };
}

async function dashboard(orgId: string, as: SessionUser) {
	return call<Dashboard>(`/api/v1/orgs/${orgId}`, { headers: bearer(as.accessToken) });
}

describe("organisations", () => {
	it("creates an org with its creator as owner, lists it, and hides it from non-members (404)", async () => {
		const owner = await sessionUser("owner");
		const orgId = await newOrg(owner, "Acme Inc");
		const mine = await call<{ orgs: Array<{ id: string; role: string }> }>("/api/v1/orgs", {
			headers: bearer(owner.accessToken),
		});
		expect(mine.body.orgs).toEqual([expect.objectContaining({ id: orgId, role: "owner" })]);
		const board = await dashboard(orgId, owner);
		expect(board.status, board.text).toBe(200);
		expect(board.body.seats).toEqual({ total: 0, used: 1, over_by: 1 });
		expect(board.body.license).toBeNull();
		const stranger = await sessionUser("stranger");
		expect((await dashboard(orgId, stranger)).status).toBe(404);
		expect((await dashboard("org_doesnotexist", owner)).status).toBe(404);
	});

	it("answers bad input with 400 and unknown fields by name", async () => {
		const owner = await sessionUser("owner");
		const res = await call<{ error: { code: string; fields: string[] } }>("/api/v1/orgs", {
			json: { name: "", extra: 1 },
			headers: bearer(owner.accessToken),
		});
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe("INVALID_REQUEST");
		const noAuth = await call("/api/v1/orgs", { json: { name: "x" } });
		expect(noAuth.status).toBe(401);
	});
});

describe("named seats", () => {
	it("takes a seat per accepted invitation and refuses the one past the license's seats", async () => {
		const owner = await sessionUser("owner");
		const { orgId } = await licensedOrg(owner, 3);
		await join(orgId, owner);
		await join(orgId, owner);
		const late = await sessionUser("late");
		const code = await invitationCode(orgId, owner, late.email);
		const res = await call<{ error: { code: string; seats: number; used: number } }>(
			"/api/v1/invitations/accept",
			{ json: { code }, headers: bearer(late.accessToken) },
		);
		expect(res.status, res.text).toBe(403);
		expect(res.body.error).toMatchObject({ code: "SEAT_LIMIT_REACHED", seats: 3, used: 3 });
		// Refusals are audited, though the refused transaction rolled back.
		const wrong = await call("/api/v1/invitations/accept", {
			json: { code: "ORG-00000-00000-00000-00000" },
			headers: bearer(late.accessToken),
		});
		expect(wrong.status, wrong.text).toBe(400);
		const audited = await sql<{ result: string; detail: Record<string, unknown> | null }>(
			"select result, detail from audit_logs where action = 'org_join' and user_id = $1 order by at, id",
			[late.id],
		);
		expect(audited.map((a) => a.result)).toEqual(["SEAT_LIMIT_REACHED", "INVALID_CODE"]);
		expect(audited[0]?.detail).toMatchObject({ org_id: orgId, seats: 3, used: 3 });
		const board = await dashboard(orgId, owner);
		expect(board.body.seats).toEqual({ total: 3, used: 3, over_by: 0 });
	});

	it("never lets 20 parallel accepts exceed 5 seats", async () => {
		const owner = await sessionUser("owner");
		const { orgId } = await licensedOrg(owner, 5);
		const people = await Promise.all(Array.from({ length: 20 }, () => sessionUser("racer")));
		const codes: string[] = [];
		for (const p of people) codes.push(await invitationCode(orgId, owner, p.email));
		const answers = await Promise.all(
			people.map((p, i) =>
				call("/api/v1/invitations/accept", {
					json: { code: codes[i] },
					headers: bearer(p.accessToken),
				}),
			),
		);
		const statuses = answers.map((a) => a.status).sort();
		// The owner holds one of the 5 seats.
		expect(statuses.filter((s) => s === 201)).toHaveLength(4);
		expect(statuses.filter((s) => s === 403)).toHaveLength(16);
		const [row] = await sql<{ n: number }>(
			"select count(*)::int as n from org_members where org_id = $1",
			[orgId],
		);
		expect(row?.n).toBe(5);
	});

	it("refuses used, expired, foreign and made-up codes with 400 INVALID_CODE", async () => {
		const owner = await sessionUser("owner");
		const { orgId } = await licensedOrg(owner, 5);
		const alice = await sessionUser("alice");
		const bob = await sessionUser("bob");
		const code = await invitationCode(orgId, owner, alice.email);
		// Bob cannot use Alice's code.
		const foreign = await call("/api/v1/invitations/accept", {
			json: { code },
			headers: bearer(bob.accessToken),
		});
		expect(foreign.status).toBe(400);
		expect(foreign.body).toMatchObject({ error: { code: "INVALID_CODE" } });
		const first = await call("/api/v1/invitations/accept", {
			json: { code },
			headers: bearer(alice.accessToken),
		});
		expect(first.status).toBe(201);
		const again = await call("/api/v1/invitations/accept", {
			json: { code },
			headers: bearer(alice.accessToken),
		});
		expect(again.status).toBe(400);
		const expiring = await invitationCode(orgId, owner, bob.email);
		await sql(
			"update org_invitations set expires_at = now() - interval '1 second' where email = $1",
			[bob.email],
		);
		const expired = await call("/api/v1/invitations/accept", {
			json: { code: expiring },
			headers: bearer(bob.accessToken),
		});
		expect(expired.status).toBe(400);
		const madeUp = await call("/api/v1/invitations/accept", {
			json: { code: "ORG-00000-00000-00000-00000" },
			headers: bearer(bob.accessToken),
		});
		expect(madeUp.status).toBe(400);
	});

	it("lets only owners and admins invite (403 for members)", async () => {
		const owner = await sessionUser("owner");
		const { orgId } = await licensedOrg(owner, 5);
		const member = await join(orgId, owner);
		const res = await call(`/api/v1/orgs/${orgId}/invitations`, {
			json: { email: "someone@example.test" },
			headers: bearer(member.accessToken),
		});
		expect(res.status).toBe(403);
		expect(res.body).toMatchObject({ error: { code: "FORBIDDEN" } });
	});
});

describe("members' machines", () => {
	it("activates the org license under the member's seat, with org and seat claims, up to activations_per_seat", async () => {
		const owner = await sessionUser("owner");
		const { orgId, licenseId } = await licensedOrg(owner, 5);
		const member = await join(orgId, owner);
		const board = await dashboard(orgId, owner);
		const seatId = board.body.members.find((m) => m.user_id === member.id)?.seat_id;
		const tokens: string[] = [];
		for (let i = 0; i < 3; i++) {
			const res = await call<{ token: string; license: { id: string } }>(
				"/api/v1/licenses/activate-mine",
				{
					json: { hardware_id: hardwareId(`m-${member.id}-${i}`) },
					headers: bearer(member.accessToken),
				},
			);
			expect(res.status, res.text).toBe(201);
			expect(res.body.license.id).toBe(licenseId);
			tokens.push(res.body.token);
		}
		const claims = decodeLicenseTokenUnverified(tokens[0] ?? "");
		expect(claims).toMatchObject({ org: orgId, seat: seatId });
		const fourth = await call<{ error: { code: string; max_activations: number; active: number } }>(
			"/api/v1/licenses/activate-mine",
			{
				json: { hardware_id: hardwareId(`m-${member.id}-3`) },
				headers: bearer(member.accessToken),
			},
		);
		expect(fourth.status).toBe(403);
		expect(fourth.body.error).toMatchObject({
			code: "ACTIVATION_LIMIT_REACHED",
			max_activations: 3,
			active: 3,
		});
		const after = await dashboard(orgId, owner);
		expect(after.body.members.find((m) => m.user_id === member.id)?.machines).toHaveLength(3);
		// The owner, who also owns the license, uses it under their own seat.
		const own = await call<{ token: string }>("/api/v1/licenses/activate-mine", {
			json: { hardware_id: hardwareId(`o-${owner.id}`) },
			headers: bearer(owner.accessToken),
		});
		expect(own.status, own.text).toBe(201);
		const ownerSeat = after.body.members.find((m) => m.user_id === owner.id)?.seat_id;
		expect(decodeLicenseTokenUnverified(own.body.token)).toMatchObject({
			org: orgId,
			seat: ownerSeat,
		});
	});

	it("frees a removed member's seat and machines at once; the last owner cannot leave", async () => {
		const owner = await sessionUser("owner");
		const { orgId } = await licensedOrg(owner, 5);
		const member = await join(orgId, owner);
		const activated = await call<{ token: string }>("/api/v1/licenses/activate-mine", {
			json: { hardware_id: hardwareId(`rm-${member.id}`) },
			headers: bearer(member.accessToken),
		});
		expect(activated.status).toBe(201);
		const removed = await call(`/api/v1/orgs/${orgId}/members/${member.id}`, {
			method: "DELETE",
			headers: bearer(owner.accessToken),
		});
		expect(removed.status, removed.text).toBe(200);
		expect(removed.body).toEqual({ machines_freed: 1 });
		const [act] = await sql<{ n: number }>(
			"select count(*)::int as n from activations where hardware_id = $1 and deactivated_at is null",
			[hardwareId(`rm-${member.id}`)],
		);
		expect(act?.n).toBe(0);
		expect((await dashboard(orgId, member)).status).toBe(404);
		const leave = await call(`/api/v1/orgs/${orgId}/members/${owner.id}`, {
			method: "DELETE",
			headers: bearer(owner.accessToken),
		});
		expect(leave.status).toBe(409);
	});

	it("lets only owners grant the owner role, and keeps one owner", async () => {
		const owner = await sessionUser("owner");
		const { orgId } = await licensedOrg(owner, 5);
		const admin = await join(orgId, owner, "admin");
		const promote = await call(`/api/v1/orgs/${orgId}/members/${admin.id}`, {
			method: "PATCH",
			json: { role: "admin" },
			headers: bearer(owner.accessToken),
		});
		expect(promote.status, promote.text).toBe(200);
		const grab = await call(`/api/v1/orgs/${orgId}/members/${admin.id}`, {
			method: "PATCH",
			json: { role: "owner" },
			headers: bearer(admin.accessToken),
		});
		expect(grab.status).toBe(403);
		const stepDown = await call(`/api/v1/orgs/${orgId}/members/${owner.id}`, {
			method: "PATCH",
			json: { role: "member" },
			headers: bearer(owner.accessToken),
		});
		expect(stepDown.status).toBe(409);
	});
});

describe("seats from Stripe", () => {
	it("a team checkout for 7 seats licenses a new org of the buyer; a new quantity changes the seats", async () => {
		const buyer = await createUser("teambuyer");
		const { subscriptionId, events } = await checkout(buyer, { plan: "team", seats: 7 });
		await deliverAll(events);
		const [license] = await sql<{
			id: string;
			org_id: string;
			seats: number;
			max_activations: number;
		}>(
			"select id, org_id, seats, max_activations from licenses where stripe_subscription_id = $1",
			[subscriptionId],
		);
		expect(license).toMatchObject({ seats: 7, max_activations: 21 });
		expect(license?.org_id).toMatch(/^org_/);
		const [owner] = await sql<{ role: string }>(
			"select role from org_members where org_id = $1 and user_id = $2",
			[license?.org_id ?? "", buyer.id],
		);
		expect(owner?.role).toBe("owner");
		const lowered = await stripeSide(`subscriptions/${subscriptionId}/change-quantity`, {
			quantity: 2,
		});
		await deliverAll(lowered.events);
		const [after] = await sql<{ seats: number; max_activations: number }>(
			"select seats, max_activations from licenses where stripe_subscription_id = $1",
			[subscriptionId],
		);
		expect(after).toMatchObject({ seats: 2, max_activations: 6 });
	});

	it("an upgrade in the Portal from a one-person plan to a team plan gives the license an org", async () => {
		const buyer = await createUser("upgrader");
		const { subscriptionId, events } = await checkout(buyer, { plan: "starter" });
		await deliverAll(events);
		const licenseOf = async () =>
			(
				await sql<{ org_id: string | null; plan_id: string; seats: number | null }>(
					"select org_id, plan_id, seats from licenses where stripe_subscription_id = $1",
					[subscriptionId],
				)
			)[0];
		expect(await licenseOf()).toMatchObject({ org_id: null, plan_id: "starter", seats: null });
		const changed = await stripeSide(`subscriptions/${subscriptionId}/change-plan`, {
			lookup_key: "team_monthly",
		});
		await deliverAll(changed.events);
		const seats = await stripeSide(`subscriptions/${subscriptionId}/change-quantity`, {
			quantity: 4,
		});
		await deliverAll(seats.events);
		const after = await licenseOf();
		expect(after).toMatchObject({ plan_id: "team", seats: 4 });
		expect(after?.org_id).toMatch(/^org_/);
		const board = await call<{ seats: { total: number; used: number } }>(
			`/api/v1/orgs/${after?.org_id}`,
			{ headers: bearer(buyer.token) },
		);
		expect(board.status, board.text).toBe(200);
		expect(board.body.seats).toMatchObject({ total: 4, used: 1 });
		// A second plan event does not make a second org.
		await deliverAll(seats.events.map((e) => ({ ...e, id: `${e.id}_again` })));
		expect((await licenseOf())?.org_id).toBe(after?.org_id);
	});

	it("refuses seats on a one-person plan", async () => {
		const buyer = await createUser("solo");
		const res = await call("/api/v1/billing/checkout", {
			json: { plan: "starter", interval: "month", seats: 3 },
			headers: bearer(buyer.token),
		});
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ error: { code: "INVALID_REQUEST", fields: ["seats"] } });
	});
});
