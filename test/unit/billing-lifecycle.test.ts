import { describe, expect, it } from "vitest";
import {
	disputeEffect,
	reconcileLicense,
	type SubscriptionSnapshot,
	subscriptionIsLicensed,
} from "../../src/billing/lifecycle";

const start = new Date("2026-11-01T00:00:00Z");
const end = new Date("2026-12-01T00:00:00Z");
const sub = (status: string, endedAt: Date | null = null): SubscriptionSnapshot => ({
	status,
	currentPeriodStart: start,
	currentPeriodEnd: end,
	endedAt,
});
const fresh = { previous: null, openDisputes: [], revoke: false, graceDays: 7 };

describe("reconcileLicense", () => {
	it("keeps an active or trialing subscription's license active until the period ends", () => {
		for (const status of ["active", "trialing"]) {
			expect(reconcileLicense({ ...fresh, subscription: sub(status) })).toEqual({
				status: "active",
				expiresAt: end,
				graceUntil: null,
			});
		}
	});

	it("gives a past_due or unpaid subscription a grace counted from the unpaid period's start", () => {
		for (const status of ["past_due", "unpaid"]) {
			expect(reconcileLicense({ ...fresh, subscription: sub(status) })).toEqual({
				status: "past_due",
				expiresAt: end,
				graceUntil: new Date("2026-11-08T00:00:00Z"),
			});
		}
	});

	it("expires a canceled subscription's license when the subscription ended", () => {
		const ended = new Date("2026-11-10T00:00:00Z");
		expect(reconcileLicense({ ...fresh, subscription: sub("canceled", ended) })).toMatchObject({
			status: "expired",
			expiresAt: ended,
		});
		expect(reconcileLicense({ ...fresh, subscription: sub("paused") }).status).toBe("expired");
	});

	it("never undoes a revocation, and revokes when told to", () => {
		expect(
			reconcileLicense({
				...fresh,
				subscription: sub("active"),
				previous: { status: "revoked", stripeOpenDisputes: [] },
			}).status,
		).toBe("revoked");
		expect(reconcileLicense({ ...fresh, subscription: sub("active"), revoke: true }).status).toBe(
			"revoked",
		);
	});

	it("holds the license suspended while a dispute is open or an operator suspended it", () => {
		expect(
			reconcileLicense({ ...fresh, subscription: sub("active"), openDisputes: ["dp_1"] }).status,
		).toBe("suspended");
		expect(
			reconcileLicense({
				...fresh,
				subscription: sub("active"),
				previous: { status: "suspended", stripeOpenDisputes: [] },
			}).status,
		).toBe("suspended");
		// The dispute's own hold ends with the dispute.
		expect(
			reconcileLicense({
				...fresh,
				subscription: sub("active"),
				previous: { status: "suspended", stripeOpenDisputes: ["dp_1"] },
				openDisputes: [],
			}).status,
		).toBe("active");
	});
});

describe("disputeEffect", () => {
	it("adds an open dispute, takes a settled one out, and revokes for a lost one", () => {
		expect(disputeEffect({ id: "dp_2", status: "needs_response" }, ["dp_1"])).toEqual({
			openDisputes: ["dp_1", "dp_2"],
			revoke: false,
		});
		expect(disputeEffect({ id: "dp_1", status: "won" }, ["dp_1", "dp_2"])).toEqual({
			openDisputes: ["dp_2"],
			revoke: false,
		});
		expect(disputeEffect({ id: "dp_1", status: "lost" }, ["dp_2"])).toEqual({
			openDisputes: ["dp_2"],
			revoke: true,
		});
	});

	it("ends with the same open set whatever order the disputes are looked at in", () => {
		const now = [
			{ id: "dp_a", status: "lost" },
			{ id: "dp_b", status: "under_review" },
			{ id: "dp_c", status: "won" },
		];
		const orders = [
			[0, 1, 2],
			[2, 1, 0],
			[1, 0, 2],
			[1, 2, 0, 1, 0],
		];
		const results = orders.map((order) =>
			order.reduce<string[]>(
				(open, i) => disputeEffect(now[i] ?? { id: "", status: "" }, open).openDisputes,
				[],
			),
		);
		for (const r of results) expect(r).toEqual(["dp_b"]);
	});
});

describe("subscriptionIsLicensed", () => {
	it("says no until a first payment succeeded", () => {
		expect(subscriptionIsLicensed("incomplete")).toBe(false);
		expect(subscriptionIsLicensed("incomplete_expired")).toBe(false);
		expect(subscriptionIsLicensed("active")).toBe(true);
		expect(subscriptionIsLicensed("canceled")).toBe(true);
	});
});
