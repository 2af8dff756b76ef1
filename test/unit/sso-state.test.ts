/** SSO login's sealed `state`: it opens as sealed, and not when forged, edited, keyed with
 * another pepper or past its expiry. */
import { describe, expect, it } from "vitest";
import { importKeyPepper } from "../../src/kernel/index";
import { openSsoState, type SsoFlow, sealSsoState } from "../../src/sso/state";

const flow: SsoFlow = {
	o: "org_abc",
	n: "nonce-1",
	c: "c".repeat(43),
	r: "http://127.0.0.1:5000/callback/sso",
	x: 2_000_000_000,
};
const before = new Date((flow.x - 1) * 1000);

describe("the SSO state", () => {
	it("opens to the flow it sealed until its expiry, then never", async () => {
		const pepper = await importKeyPepper("p".repeat(40));
		const state = await sealSsoState(pepper, flow);
		expect(state).toMatch(/^[A-Za-z0-9_-]+\.[0-9a-f]{64}$/);
		await expect(openSsoState(pepper, state, before)).resolves.toEqual(flow);
		await expect(openSsoState(pepper, state, new Date(flow.x * 1000))).resolves.toBeNull();
	});

	it("refuses an edited payload, another pepper's MAC and malformed strings", async () => {
		const pepper = await importKeyPepper("p".repeat(40));
		const other = await importKeyPepper("q".repeat(40));
		const state = await sealSsoState(pepper, flow);
		const [, tag] = state.split(".");
		const edited = `${Buffer.from(JSON.stringify({ ...flow, o: "org_evil" })).toString("base64url")}.${tag}`;
		await expect(openSsoState(pepper, edited, before)).resolves.toBeNull();
		await expect(openSsoState(other, state, before)).resolves.toBeNull();
		for (const bad of ["", ".", "abc", `${state}.x`, `${state.split(".")[0]}.`, "e30.00"]) {
			await expect(openSsoState(pepper, bad, before), bad).resolves.toBeNull();
		}
	});
});
