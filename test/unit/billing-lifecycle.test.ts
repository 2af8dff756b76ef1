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
const fresh = { previous: null, disputeId: null, revoke: false, graceDays: 7 };

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
				previous: { status: "revoked", stripeDisputeId: null },
			}).status,
		).toBe("revoked");
		expect(reconcileLicense({ ...fresh, subscription: sub("active"), revoke: true }).status).toBe(
			"revoked",
		);
	});

	it("holds the license suspended while a dispute is open or an operator suspended it", () => {
		expect(
			reconcileLicense({ ...fresh, subscription: sub("active"), disputeId: "dp_1" }).status,
		).toBe("suspended");
		expect(
			reconcileLicense({
				...fresh,
				subscription: sub("active"),
				previous: { status: "suspended", stripeDisputeId: null },
			}).status,
		).toBe("suspended");
		// The dispute's own hold ends with the dispute.
		expect(
			reconcileLicense({
				...fresh,
				subscription: sub("active"),
				previous: { status: "suspended", stripeDisputeId: "dp_1" },
				disputeId: null,
			}).status,
		).toBe("active");
	});
});

describe("disputeEffect", () => {
	it("suspends for an open dispute, lifts only its own hold when won, revokes when lost", () => {
		expect(disputeEffect({ id: "dp_1", status: "needs_response" }, null)).toEqual({
			disputeId: "dp_1",
			revoke: false,
		});
		expect(disputeEffect({ id: "dp_1", status: "won" }, "dp_1")).toEqual({
			disputeId: null,
			revoke: false,
		});
		expect(disputeEffect({ id: "dp_1", status: "won" }, "dp_2")).toEqual({
			disputeId: "dp_2",
			revoke: false,
		});
		expect(disputeEffect({ id: "dp_1", status: "lost" }, "dp_1")).toEqual({
			disputeId: null,
			revoke: true,
		});
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
