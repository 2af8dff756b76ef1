import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signatureHeader, verifySignature } from "../../src/webhooks/sign";

const body = JSON.stringify({ id: "e1", type: "license.created", data: { id: "lic_x" } });
const t = 1_796_500_000;

describe("Coditect-Signature", () => {
	it("is t=…,v1=<HMAC-SHA-256 of 't.body'> as any HMAC library computes it", async () => {
		const secret = newWebhookSecret();
		const header = await signatureHeader([secret], body, t);
		const mac = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
		expect(header).toBe(`t=${t},v1=${mac}`);
		expect(await verifySignature(secret, body, header, { now: t })).toEqual({
			ok: true,
			timestamp: t,
		});
	});

	it("carries one v1 per live secret, so either side of a rotation verifies", async () => {
		const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
		const header = await signatureHeader([current, previous], body, t);
		expect(header.split(",").filter((p) => p.startsWith("v1="))).toHaveLength(2);
		expect((await verifySignature(current, body, header, { now: t })).ok).toBe(true);
		expect((await verifySignature(previous, body, header, { now: t })).ok).toBe(true);
		expect(await verifySignature(newWebhookSecret(), body, header, { now: t })).toEqual({
			ok: false,
			reason: "mismatch",
		});
	});

	it("refuses a changed body, a changed timestamp, and an old or future t", async () => {
		const secret = newWebhookSecret();
		const header = await signatureHeader([secret], body, t);
		expect((await verifySignature(secret, `${body} `, header, { now: t })).ok).toBe(false);
		const shifted = header.replace(`t=${t}`, `t=${t + 1}`);
		expect(await verifySignature(secret, body, shifted, { now: t })).toEqual({
			ok: false,
			reason: "mismatch",
		});
		expect(await verifySignature(secret, body, header, { now: t + 301 })).toEqual({
			ok: false,
			reason: "stale",
		});
		expect(await verifySignature(secret, body, header, { now: t - 301 })).toEqual({
			ok: false,
			reason: "stale",
		});
		expect(
			(await verifySignature(secret, body, header, { now: t + 3600, toleranceSeconds: 7200 })).ok,
		).toBe(true);
	});

	it("calls a missing or garbled header malformed", async () => {
		const secret = newWebhookSecret();
		for (const header of [null, "", "v1=abc", `t=${t}`, `t=x,v1=${"a".repeat(64)}`, "garbage"]) {
			expect(await verifySignature(secret, body, header, { now: t })).toEqual({
				ok: false,
				reason: "malformed",
			});
		}
	});
});
