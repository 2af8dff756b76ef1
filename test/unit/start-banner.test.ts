import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type RunningServer, startBanner } from "../../src/server";

const running = (over: Partial<RunningServer>): RunningServer => ({
	url: "http://127.0.0.1:8787",
	publicUrl: "http://127.0.0.1:8787",
	devAdminToken: undefined,
	databaseUrl: "postgres://unused",
	embedded: true,
	close: async () => {},
	...over,
});

describe("the npm start banner", () => {
	it("prints PUBLIC_URL and points the CLI at it, not only at the listen address", () => {
		const text = startBanner(
			running({ url: "http://0.0.0.0:8787", publicUrl: "https://license.example.test" }),
			42,
		);
		expect(text).toContain("listening on http://0.0.0.0:8787");
		expect(text).toContain("PUBLIC_URL https://license.example.test");
		expect(text).toContain("CODITECT_API_URL=https://license.example.test npx coditect activate");
	});

	it("has no <placeholder> a shell would read as a redirect, and its commands parse as shell", () => {
		const text = startBanner(running({ devAdminToken: "dev-token" }), 42);
		expect(text).not.toMatch(/<[A-Z_]+>/);
		const commands = text
			.split("\n")
			.filter((l) => l.startsWith("  "))
			.map((l) => l.trim())
			.filter((l) => !l.startsWith("PUBLIC_URL") && !l.startsWith("#"))
			.join("\n");
		// `sh -n` parses without running anything.
		expect(() => execFileSync("sh", ["-n"], { input: commands })).not.toThrow();
		expect(commands).toContain('activate "$KEY"');
	});
});
