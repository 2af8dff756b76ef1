/**
 * Request files and release receipts as an air-gapped machine makes them
 * (docs/offline-activation.md), with WebCrypto so the same code runs in workerd and Node. The
 * CLI makes the real ones with node:crypto; test/cli covers those end to end.
 */
import { encodeBase64Url, encodeUtf8 } from "../../src/kernel/base64url";
import { jwkThumbprint } from "../../src/kernel/token/keys";
import { type ReleaseReceiptClaims, releaseSigningInput } from "../../src/kernel/token/release";

export interface Machine {
	hardwareId: string;
	x: string;
	kid: string;
	privateKey: CryptoKey;
}

export async function newMachine(hardwareId: string): Promise<Machine> {
	const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
		"sign",
		"verify",
	])) as CryptoKeyPair;
	const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
	const x = String(jwk.x);
	return {
		hardwareId,
		x,
		kid: await jwkThumbprint({ crv: "Ed25519", kty: "OKP", x }),
		privateKey: pair.privateKey,
	};
}

export function requestFile(
	machine: Machine,
	licenseId: string,
	over: Record<string, unknown> = {},
): Record<string, unknown> {
	return {
		format: "coditect-offline-request",
		version: 1,
		license_id: licenseId,
		hardware_id: machine.hardwareId,
		hostname: "airgap-1",
		platform: "linux-x64",
		nonce: encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))),
		machine_key: { kty: "OKP", crv: "Ed25519", x: machine.x },
		created_at: new Date().toISOString(),
		...over,
	};
}

/** A receipt signed by `machine` (or claims edited by `over`, still signed by it). */
export async function releaseFile(
	machine: Machine,
	licenseId: string,
	activationId: string,
	nonce: string,
	over: Partial<ReleaseReceiptClaims> = {},
): Promise<Record<string, unknown>> {
	const claims: ReleaseReceiptClaims = {
		sub: licenseId,
		act: activationId,
		hwid: machine.hardwareId,
		nonce,
		iat: Math.floor(Date.now() / 1000),
		...over,
	};
	const input = releaseSigningInput(machine.kid, claims);
	const signature = await crypto.subtle.sign("Ed25519", machine.privateKey, encodeUtf8(input));
	return {
		format: "coditect-offline-release",
		version: 1,
		license_id: licenseId,
		activation_id: activationId,
		receipt: `${input}.${encodeBase64Url(new Uint8Array(signature))}`,
	};
}
