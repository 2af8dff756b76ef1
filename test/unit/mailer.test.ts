import { describe, expect, it } from "vitest";
import { mailerFor, mails } from "../../src/accounts/mailer";
import { SettingsSchema } from "../../src/env";

const settings = (publicUrl: string) =>
	SettingsSchema.parse({
		PUBLIC_URL: publicUrl,
		LICENSE_SIGNING_KEY: JSON.stringify({ kty: "OKP", crv: "Ed25519", x: "x", d: "d" }),
		LICENSE_KEY_PEPPER: "p".repeat(32),
		JWT_SECRET: "j".repeat(32),
	});

async function logged(publicUrl: string): Promise<string> {
	const lines: string[] = [];
	const mailer = mailerFor(settings(publicUrl), (l) => lines.push(l));
	expect(mailer.delivers).toBe(false);
	await mailer.send({ to: "someone@example.com", ...mails.verificationCode("493817") });
	return lines.join("\n");
}

describe("mail without RESEND_API_KEY", () => {
	it("goes to the log in full on a loopback server (development)", async () => {
		for (const url of ["http://127.0.0.1:8787", "http://localhost:8787", "http://[::1]:8787"]) {
			expect(await logged(url)).toContain("493817");
		}
	});

	it("is withheld on any other server: the log says a mail was dropped, not its code", async () => {
		const line = await logged("https://license.example.com");
		expect(line).toContain("not sent");
		expect(line).toContain("RESEND_API_KEY");
		expect(line).not.toContain("493817");
		expect(line).not.toContain("someone@");
	});
});
