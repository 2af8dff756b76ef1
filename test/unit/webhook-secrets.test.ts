/** Endpoint signing secrets at rest (src/webhooks/secrets.ts over src/sso/secret-box.ts). */
import { describe, expect, it } from "vitest";
import { sealSecret } from "../../src/sso/secret-box";
import { endpointSecrets } from "../../src/webhooks/secrets";
import { newWebhookSecret } from "../../src/webhooks/sign";

const PEPPER = "p".repeat(43);
const box = endpointSecrets(PEPPER);

describe("endpoint secrets", () => {
	it("seal to a fresh v1 value that opens only for the same endpoint under the same pepper", async () => {
		const secret = newWebhookSecret();
		const sealed = await box.seal("whe_a", secret);
		expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
		expect(sealed).not.toContain(secret.slice(6));
		expect(await box.seal("whe_a", secret)).not.toBe(sealed);
		await expect(box.open("whe_a", sealed)).resolves.toEqual({ secret, legacy: false });
		await expect(box.open("whe_b", sealed)).resolves.toBeNull();
		await expect(endpointSecrets("q".repeat(43)).open("whe_a", sealed)).resolves.toBeNull();
		await expect(
			box.open("whe_a", `${sealed.slice(0, -2)}${sealed.endsWith("AA") ? "BA" : "AA"}`),
		).resolves.toBeNull();
		await expect(box.open("whe_a", "garbage")).resolves.toBeNull();
	});

	it("use a key of their own: an SSO client secret sealed under the same pepper and id does not open", async () => {
		const sso = await sealSecret(PEPPER, "whe_a", newWebhookSecret());
		await expect(box.open("whe_a", sso)).resolves.toBeNull();
	});

	it("read a secret stored in the clear before migration 0010 as legacy, and nothing else as plaintext", async () => {
		const secret = newWebhookSecret();
		await expect(box.open("whe_a", secret)).resolves.toEqual({ secret, legacy: true });
		await expect(box.open("whe_a", "whsec_short")).resolves.toBeNull();
	});
});
