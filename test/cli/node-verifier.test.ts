/** The CLI's node:crypto primitives give the same verdicts as WebCrypto on the golden token. */
import { describe, expect, it } from "vitest";
import { nodeVerifier } from "../../cli/node-crypto";
import {
	importPublicKeySet,
	importPublicKeySetWith,
	type PublicJwk,
	verifyLicenseToken,
	verifyLicenseTokenWith,
} from "../../src/kernel/index";
import vector from "../vectors/license-token.json";

const jwk = vector.public_jwk as PublicJwk;
const opts = { now: new Date(vector.verify_at), hardwareId: vector.hardware_id };

function variants(token: string): Array<[string, string]> {
	const [h = "", p = "", s = ""] = token.split(".");
	const flip = (seg: string, i: number) =>
		`${seg.slice(0, i)}${seg.charAt(i) === "A" ? "B" : "A"}${seg.slice(i + 1)}`;
	return [
		["golden", token],
		["signature bit", `${h}.${p}.${flip(s, 5)}`],
		["payload bit", `${h}.${flip(p, 20)}.${s}`],
		["truncated", token.slice(0, -10)],
		["no signature", `${h}.${p}.`],
	];
}

describe("nodeVerifier", () => {
	it("imports the same key set (kid = RFC 7638 thumbprint) as WebCrypto", async () => {
		const node = await importPublicKeySetWith([jwk], nodeVerifier);
		const web = await importPublicKeySet([jwk]);
		expect([...node.keys()]).toEqual([...web.keys()]);
		expect([...node.keys()]).toEqual([vector.public_jwk.kid]);
		const wrongKid = await importPublicKeySetWith(
			[{ ...jwk, kid: "not-the-thumbprint" }],
			nodeVerifier,
		);
		expect(wrongKid.size).toBe(0);
	});

	it("agrees with WebCrypto on the golden token and on tampered copies", async () => {
		const node = await importPublicKeySetWith([jwk], nodeVerifier);
		const web = await importPublicKeySet([jwk]);
		for (const [name, token] of variants(vector.token)) {
			const a = await verifyLicenseTokenWith(token, node, nodeVerifier, opts);
			const b = await verifyLicenseToken(token, web, opts);
			expect(a, name).toEqual(b);
			expect(a.ok, name).toBe(name === "golden");
		}
	});
});
