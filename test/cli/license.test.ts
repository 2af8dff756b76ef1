import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashHardwareId } from "../../cli/fingerprint";
import {
	LicenseServer,
	readLicenseJson,
	runCli,
	type LicenseServer as Server,
	show,
	tempHome,
} from "./helpers";

let server: Server;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
	server = await LicenseServer.start();
});
afterAll(async () => {
	await server.down();
});
afterEach(async () => {
	await server.up();
	for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function home(): Promise<string> {
	const t = await tempHome();
	cleanups.push(t.cleanup);
	return t.home;
}

/** What the server says of this key on test-machine-1: the server-side truth about the seat. */
async function validate(key: string): Promise<Record<string, unknown>> {
	const res = await fetch(`${server.url}/api/v1/licenses/validate`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ license_key: key, hardware_id: hashHardwareId("test-machine-1") }),
	});
	return (await res.json()) as Record<string, unknown>;
}

async function activated(
	hardwareId = "test-machine-1",
): Promise<{ home: string; key: string; id: string }> {
	const h = await home();
	const { key, id } = await server.mintLicense();
	const r = await runCli(["activate", key, "--json"], { home: h, apiUrl: server.url, hardwareId });
	expect(r.code, show(r)).toBe(0);
	return { home: h, key, id };
}

describe("activate and status", () => {
	it("activates with a key, stores 0600 files, and reports the license offline-first", async () => {
		const h = await home();
		const { key, id } = await server.mintLicense();
		const act = await runCli(["activate", key, "--json"], { home: h, apiUrl: server.url });
		expect(act.code, show(act)).toBe(0);
		expect(act.json).toMatchObject({
			activated: true,
			licensed: true,
			code: "VALID",
			plan: "professional",
			license_id: id,
		});

		const mode = (await stat(join(h, "license.json"))).mode & 0o777;
		expect(mode.toString(8)).toBe("600");
		const stored = await readLicenseJson(h);
		expect(stored).toMatchObject({
			source: "key",
			license_key: key,
			license_id: id,
			api_url: server.url,
		});

		const status = await runCli(["license", "status", "--json"], { home: h, apiUrl: server.url });
		expect(status.code, show(status)).toBe(0);
		expect(status.json).toMatchObject({
			licensed: true,
			code: "VALID",
			offline: true,
			revalidation: "not_needed",
		});
		expect(status.json.grace_remaining_s).toBeGreaterThan(71 * 3600);

		const human = await runCli(["license", "status"], { home: h, apiUrl: server.url });
		expect(human.code, show(human)).toBe(0);
		expect(human.stdout).toContain("Licensed");
		expect(human.stdout).toContain("professional");
	});

	it("keeps working with the server down while the token is fresh", async () => {
		const { home: h } = await activated();
		await server.down();
		const r = await runCli(["license", "status", "--json"], { home: h, apiUrl: server.url });
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ licensed: true, offline: true });
	});

	it("revalidates online with --online and says so", async () => {
		const { home: h } = await activated();
		const before = await readLicenseJson(h);
		const r = await runCli(["license", "status", "--online", "--json"], {
			home: h,
			apiUrl: server.url,
		});
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ licensed: true, offline: false, revalidation: "done" });
		expect((await readLicenseJson(h)).token).not.toBe(before.token);
	});

	it("stays licensed with --online when the server is down, and reports the network problem", async () => {
		const { home: h } = await activated();
		await server.down();
		const r = await runCli(["license", "status", "--online", "--json"], {
			home: h,
			apiUrl: server.url,
		});
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ licensed: true, revalidation: "failed" });
		expect(String(r.json.network_error)).toContain("Could not reach");
	});

	it("says what the figures mean: grace left, one network sentence, the setting that was used", async () => {
		const { home: h } = await activated();
		const human = await runCli(["license", "status"], { home: h, apiUrl: server.url });
		expect(human.stdout).toMatch(/offline grace left\s+2d 23h/);
		expect(human.stdout).not.toContain("offline for");
		await server.down();
		const viaFlag = await runCli(["license", "status", "--online", "--api-url", server.url], {
			home: h,
		});
		const text = viaFlag.stdout + viaFlag.stderr;
		expect(text.match(/Could not reach the license server/g), text).toHaveLength(1);
		expect(text).toContain("(--api-url)");
		expect(text).not.toContain("CODITECT_API_URL");
	});

	it("checks with the server recorded in license.json when none is configured, and names it when another is", async () => {
		const { home: h } = await activated();
		const plain = await runCli(["license", "status", "--json"], { home: h });
		expect(plain.code, show(plain)).toBe(0);
		expect(plain.json).toMatchObject({ licensed: true });
		const online = await runCli(["license", "status", "--online", "--json"], { home: h });
		expect(online.json, show(online)).toMatchObject({ licensed: true, revalidation: "done" });

		const other = await runCli(["license", "status", "--json", "--api-url", "http://127.0.0.1:9"], {
			home: h,
		});
		expect(other.json, show(other)).toMatchObject({ licensed: false, code: "FOREIGN_LICENSE" });
		expect(String(other.json.message)).toContain(`--api-url ${server.url}`);
		expect(String(other.json.message)).toContain("(from --api-url)");
	});

	it("refuses a typo in the key before any network call (exit 1)", async () => {
		const h = await home();
		const { key } = await server.mintLicense();
		const typo = `${key.slice(0, -1)}${key.endsWith("0") ? "1" : "0"}`;
		await server.down();
		const r = await runCli(["activate", typo], { home: h, apiUrl: server.url });
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain("typo");
	});

	it("says an unknown key is not a license (exit 2) and an unreachable server is a network failure (exit 3)", async () => {
		const h = await home();
		const { generateLicenseKey } = await import("../../src/kernel/license-key");
		const unknown = await runCli(["activate", generateLicenseKey(), "--json"], {
			home: h,
			apiUrl: server.url,
		});
		expect(unknown.code, show(unknown)).toBe(2);
		expect(unknown.json).toMatchObject({ error: { code: "LICENSE_NOT_FOUND" } });

		await server.down();
		const offline = await runCli(["activate", generateLicenseKey()], {
			home: h,
			apiUrl: server.url,
		});
		expect(offline.code, show(offline)).toBe(3);
		expect(offline.stderr).toContain("Could not reach the license server");
	});

	it("explains the activation limit (exit 2)", async () => {
		const { key } = await server.mintLicense({ plan: "professional", max_activations: 1 });
		const a = await runCli(["activate", key], {
			home: await home(),
			apiUrl: server.url,
			hardwareId: "m-a",
		});
		expect(a.code, show(a)).toBe(0);
		const b = await runCli(["activate", key], {
			home: await home(),
			apiUrl: server.url,
			hardwareId: "m-b",
		});
		expect(b.code, show(b)).toBe(2);
		expect(b.stderr).toContain("All 1 activations");
		expect(b.stderr).toContain("coditect deactivate");
	});

	it("loses the license on the next online check after the operator revokes it", async () => {
		const { home: h, id } = await activated();
		await server.admin(`/licenses/${id}/revoke`, {});
		const r = await runCli(["license", "status", "--online", "--json"], {
			home: h,
			apiUrl: server.url,
		});
		expect(r.code, show(r)).toBe(2);
		expect(r.json).toMatchObject({ licensed: false, code: "REVOKED" });
		// The revoked token is gone from the cache, so it does not keep working offline.
		await server.down();
		const after = await runCli(["license", "status", "--json"], { home: h, apiUrl: server.url });
		expect(after.code, show(after)).toBe(3);
		expect(after.json).toMatchObject({ licensed: false, code: "NOT_ACTIVATED" });
	});

	it("deactivates: frees the seat and deletes the local license", async () => {
		const { home: h, key } = await activated();
		const r = await runCli(["deactivate", "--json"], { home: h, apiUrl: server.url });
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ deactivated: true, server_freed: true });
		await expect(stat(join(h, "license.json"))).rejects.toThrow();
		const validate = await fetch(`${server.url}/api/v1/licenses/validate`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({
				license_key: key,
				hardware_id: await (await import("../../cli/fingerprint")).hashHardwareId("test-machine-1"),
			}),
		});
		expect(await validate.json()).toMatchObject({ valid: false, code: "NOT_ACTIVATED" });
		const again = await runCli(["deactivate"], { home: h, apiUrl: server.url });
		expect(again.code, show(again)).toBe(1);
		expect(again.stderr).toContain("nothing to deactivate");
	});

	it("keeps the local license when deactivation cannot reach the server (exit 3), and says --force exists", async () => {
		const { home: h } = await activated();
		await server.down();
		const r = await runCli(["deactivate"], { home: h, apiUrl: server.url });
		expect(r.code, show(r)).toBe(3);
		expect(r.stderr).toContain("--force");
		await expect(stat(join(h, "license.json"))).resolves.toBeTruthy();
	});

	it("with --force and the server unreachable deletes the local license, says the seat may still be held and how to free it", async () => {
		const { home: h, key } = await activated();
		const { license_id, activation_id } = await readLicenseJson(h);
		await server.down();
		const r = await runCli(["deactivate", "--force", "--json"], { home: h, apiUrl: server.url });
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({
			deactivated: false,
			server_freed: false,
			local_deleted: true,
			license_id,
			activation_id,
		});
		await expect(stat(join(h, "license.json"))).rejects.toThrow();
		await server.up();
		expect((await runCli(["activate", key], { home: h, apiUrl: server.url })).code).toBe(0);
		await server.down();
		const text = await runCli(["deactivate", "--force"], { home: h, apiUrl: server.url });
		expect(text.code, show(text)).toBe(0);
		expect(text.stdout + text.stderr).toMatch(/may still be held/);
		expect(text.stdout + text.stderr).toContain(
			`DELETE ${server.url}/api/v1/licenses/${String(license_id)}/activations/`,
		);
		await server.up();
		// The seat really is still held on the server.
		expect(await validate(key)).toMatchObject({ valid: true });
	});

	it("against another server keeps the local license and the seat: exit 1, naming the license's server", async () => {
		const { home: h, key } = await activated();
		const other = await LicenseServer.start();
		cleanups.push(() => other.down());
		const r = await runCli(["deactivate"], { home: h, apiUrl: other.url });
		expect(r.code, show(r)).toBe(1);
		expect(r.stderr).toContain(server.url);
		expect(r.stderr).toContain("--force");
		await expect(stat(join(h, "license.json"))).resolves.toBeTruthy();
		expect(await validate(key)).toMatchObject({ valid: true });
	});

	it("with no server configured uses the one that issued the license", async () => {
		const { home: h, key } = await activated();
		const r = await runCli(["deactivate", "--json"], { home: h });
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ deactivated: true, server_freed: true });
		await expect(stat(join(h, "license.json"))).rejects.toThrow();
		expect(await validate(key)).toMatchObject({ valid: false, code: "NOT_ACTIVATED" });
	});
});
