/**
 * Licenses for a logged-in user, end to end: the CLI as a real process against the real Node
 * server, the fake Resend endpoint for signup codes and the fake Stripe for payments (its
 * webhooks signed and delivered to /webhooks/stripe as Stripe would). Each test gets its own
 * server process on the run's database, so rate limits start empty.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { hashHardwareId } from "../../cli/fingerprint";
import {
	api,
	auditCount,
	createAccount,
	deliverWebhooks,
	loggedIn,
	payCheckout,
	type Session,
} from "./account-helpers";
import { type LicenseServer, perTest, readLicenseJson, runCli, show, spawnCli } from "./helpers";

const { serverWith, home } = perTest();

/** A verified account, logged in with the CLI on a fresh home. */

interface OwnedLicense {
	id: string;
	plan: string;
	activations: Array<{ id: string; hardware_id: string }>;
}

async function ownedLicenses(server: LicenseServer, session: Session): Promise<OwnedLicense[]> {
	const res = await api(server, "GET", "/api/v1/licenses", { bearer: session.access_token });
	expect(res.status).toBe(200);
	return res.body.licenses as OwnedLicense[];
}

describe("activate without a key", () => {
	it("activates the user's own license, revalidates it online, and deactivate frees the seat", async () => {
		const server = await serverWith({ mail: true });
		const { home: h, email, session } = await loggedIn(server, home);
		const opts = { home: h, apiUrl: server.url };

		const none = await runCli(["activate", "--json"], opts);
		expect(none.code, show(none)).toBe(2);
		expect(none.json).toMatchObject({ error: { code: "LICENSE_NOT_FOUND" } });
		expect(JSON.stringify(none.json)).not.toContain("No license has this key");
		expect(JSON.stringify(none.json)).toContain("coditect upgrade");

		const { id } = await server.mintLicense({ plan: "professional", owner_email: email });
		const act = await runCli(["activate", "--json"], opts);
		expect(act.code, show(act)).toBe(0);
		expect(act.json).toMatchObject({ activated: true, licensed: true, license_id: id });
		const stored = await readLicenseJson(h);
		expect(stored).toMatchObject({ source: "account", license_key: null, license_id: id });
		const [seat] = (await ownedLicenses(server, session)).flatMap((l) => l.activations);
		expect(seat).toMatchObject({
			id: stored.activation_id,
			hardware_id: hashHardwareId("test-machine-1"),
		});

		const status = await runCli(["license", "status", "--online", "--json"], opts);
		expect(status.code, show(status)).toBe(0);
		expect(status.json).toMatchObject({ licensed: true, offline: false, revalidation: "done" });
		expect((await readLicenseJson(h)).token).not.toBe(stored.token);

		const off = await runCli(["deactivate", "--json"], opts);
		expect(off.code, show(off)).toBe(0);
		expect(off.json).toMatchObject({ deactivated: true, server_freed: true, license_id: id });
		await expect(stat(join(h, "license.json"))).rejects.toThrow();
		expect((await ownedLicenses(server, session)).flatMap((l) => l.activations)).toEqual([]);
	});
});

/** checkLicense() as a host tool calls it: the built library, in a process of its own. */
function checkLicenseInProcess(h: string, apiUrl: string): Record<string, unknown> {
	const lib = pathToFileURL(resolve("cli/dist/lib.mjs")).href;
	const out = execFileSync(
		process.execPath,
		[
			"--input-type=module",
			"-e",
			`const { checkLicense } = await import(${JSON.stringify(lib)}); console.log(JSON.stringify(await checkLicense({ online: "always" })));`,
		],
		{
			env: {
				PATH: process.env.PATH ?? "",
				HOME: h,
				CODITECT_HOME: h,
				CODITECT_API_URL: apiUrl,
				CODITECT_HARDWARE_ID: "test-machine-1",
			},
			encoding: "utf8",
		},
	);
	return JSON.parse(out) as Record<string, unknown>;
}

describe("a check never changes server state", () => {
	it("logged in without a license file, `license status` and checkLicense() report NOT_ACTIVATED, say to run `coditect activate`, and take no seat", async () => {
		const server = await serverWith({ mail: true });
		const { home: h, email, session } = await loggedIn(server, home);
		const opts = { home: h, apiUrl: server.url };
		const { id } = await server.mintLicense({ plan: "professional", owner_email: email });

		for (const args of [
			["license", "status", "--json"],
			["license", "status", "--online", "--json"],
		]) {
			const r = await runCli(args, opts);
			expect(r.code, show(r)).toBe(2);
			expect(r.json).toMatchObject({ licensed: false, code: "NOT_ACTIVATED" });
			expect(String(r.json.message)).toContain("coditect activate");
		}
		const human = await runCli(["license", "status"], opts);
		expect(human.stdout).toContain(`logged in as ${email}`);
		expect(checkLicenseInProcess(h, server.url)).toMatchObject({
			licensed: false,
			code: "NOT_ACTIVATED",
		});

		expect((await ownedLicenses(server, session)).flatMap((l) => l.activations)).toEqual([]);
		expect(await auditCount("license_activate", id)).toBe(0);
		await expect(stat(join(h, "license.json"))).rejects.toThrow();

		// Only `activate` activates.
		expect((await runCli(["activate"], opts)).code).toBe(0);
		expect((await ownedLicenses(server, session)).flatMap((l) => l.activations)).toHaveLength(1);
	});
	it("an online check of a revoked license says so and takes no seat on the owner's other license", async () => {
		const server = await serverWith({ mail: true });
		const { home: h, email, session } = await loggedIn(server, home);
		const opts = { home: h, apiUrl: server.url };
		await server.mintLicense({ plan: "professional", owner_email: email });
		await server.mintLicense({ plan: "professional", owner_email: email });
		expect((await runCli(["activate"], opts)).code).toBe(0);
		const { license_id } = await readLicenseJson(h);
		await server.admin(`/licenses/${String(license_id)}/revoke`, {});

		const r = await runCli(["license", "status", "--online", "--json"], opts);
		expect(r.code, show(r)).toBe(2);
		expect(r.json).toMatchObject({ licensed: false, code: "REVOKED" });
		const seats = (await ownedLicenses(server, session)).flatMap((l) => l.activations);
		expect(seats.filter((a) => a.hardware_id === hashHardwareId("test-machine-1"))).toHaveLength(1);
		expect((await ownedLicenses(server, session)).filter((l) => l.activations.length > 0)).toEqual([
			expect.objectContaining({ id: license_id }),
		]);
	});
});

describe("a seat the owner frees remotely (the lost laptop)", () => {
	it("stays free: the machine's next online check is unlicensed (exit 2) and takes no seat until `coditect activate`", async () => {
		const server = await serverWith({ mail: true });
		const { home: h, email, session } = await loggedIn(server, home);
		const opts = { home: h, apiUrl: server.url };
		const { id } = await server.mintLicense({ plan: "professional", owner_email: email });
		expect((await runCli(["activate"], opts)).code).toBe(0);
		const { activation_id } = await readLicenseJson(h);

		const freed = await api(
			server,
			"DELETE",
			`/api/v1/licenses/${id}/activations/${String(activation_id)}`,
			{ bearer: session.access_token },
		);
		expect(freed.status).toBe(204);

		const check = await runCli(["license", "status", "--online", "--json"], opts);
		expect(check.code, show(check)).toBe(2);
		expect(check.json).toMatchObject({ licensed: false, code: "NOT_ACTIVATED" });
		expect((await ownedLicenses(server, session)).flatMap((l) => l.activations)).toEqual([]);

		const again = await runCli(["activate", "--json"], opts);
		expect(again.code, show(again)).toBe(0);
		expect((await ownedLicenses(server, session)).flatMap((l) => l.activations)).toHaveLength(1);
	});
});

describe("upgrade", () => {
	it("opens Stripe Checkout, waits for the paid license from the signed webhook, and activates it", async () => {
		const server = await serverWith({ mail: true, billing: true });
		const { home: h, session } = await loggedIn(server, home);
		const cli = spawnCli(["upgrade", "professional", "--no-browser", "--json"], {
			home: h,
			apiUrl: server.url,
		});
		cli.endInput();
		const [, sessionId = ""] = await cli.stderrMatch(
			/https:\/\/checkout\.stripe\.test\/c\/pay\/(cs_[A-Za-z0-9_]+)/,
		);
		await cli.stderrMatch(/Waiting for the payment/);
		expect(await ownedLicenses(server, session)).toEqual([]);

		// The customer pays; Stripe sends checkout.session.completed (and friends), signed.
		await deliverWebhooks(server, await payCheckout(sessionId));

		const r = await cli.result;
		expect(r.code, show(r)).toBe(0);
		const [paid] = await ownedLicenses(server, session);
		expect(paid).toMatchObject({ plan: "professional" });
		expect(r.json).toMatchObject({
			upgraded: true,
			session_id: sessionId,
			licensed: true,
			plan: "professional",
			license_id: paid?.id,
		});
		expect(await readLicenseJson(h)).toMatchObject({ source: "account", license_id: paid?.id });
		expect(paid?.activations).toHaveLength(1);
	});

	it("against a server without Stripe says billing is not configured (exit 1)", async () => {
		const server = await serverWith({ mail: true });
		const { home: h } = await loggedIn(server, home);
		const r = await runCli(["upgrade", "starter", "--no-browser", "--json"], {
			home: h,
			apiUrl: server.url,
		});
		expect(r.code, show(r)).toBe(1);
		expect(r.json).toMatchObject({ error: { code: "BILLING_NOT_CONFIGURED" } });
		const human = await runCli(["upgrade", "starter", "--no-browser"], {
			home: h,
			apiUrl: server.url,
		});
		expect(human.code, show(human)).toBe(1);
		expect(human.stderr).toContain("does not sell plans (billing is not configured)");
	});
});

describe("a re-issued license key", () => {
	it("stops the old key: the machine's next online check is unlicensed (exit 2) until it activates with the new key", async () => {
		const server = await serverWith({ mail: true });
		const { email, session } = await createAccount(server);
		const h = await home();
		const opts = { home: h, apiUrl: server.url };
		const { key, id } = await server.mintLicense({ plan: "professional", owner_email: email });
		expect((await runCli(["activate", key], opts)).code).toBe(0);

		const reissued = await api(server, "POST", `/api/v1/licenses/${id}/keys`, {
			bearer: session.access_token,
		});
		expect(reissued.status).toBe(201);
		const newKey = String(reissued.body.license_key);
		expect(newKey).not.toBe(key);

		const stale = await runCli(["license", "status", "--online", "--json"], opts);
		expect(stale.code, show(stale)).toBe(2);
		expect(stale.json).toMatchObject({ licensed: false, code: "NOT_FOUND", revalidation: "done" });

		const again = await runCli(["activate", newKey, "--json"], opts);
		expect(again.code, show(again)).toBe(0);
		expect(again.json).toMatchObject({ licensed: true, license_id: id });
	});
});

/** Waits up to 5 s for the background refresh to store a token other than `token`. */
async function tokenReplaced(home: string, token: string): Promise<boolean> {
	for (let i = 0; i < 50; i++) {
		if (String((await readLicenseJson(home)).token) !== token) return true;
		await new Promise((ok) => setTimeout(ok, 100));
	}
	return false;
}

describe("rate limits on validate", () => {
	async function activatedWithKey(
		server: LicenseServer,
	): Promise<{ home: string; key: string; id: string }> {
		const h = await home();
		const { key, id } = await server.mintLicense();
		const r = await runCli(["activate", key], { home: h, apiUrl: server.url });
		expect(r.code, show(r)).toBe(0);
		return { home: h, key, id };
	}

	it("a 429 is reported as the server limiting requests, with when to retry, and the fresh token still holds", async () => {
		const server = await serverWith({});
		const { home: h, key } = await activatedWithKey(server);
		const body = { license_key: key, hardware_id: hashHardwareId("test-machine-1") };
		const statuses: number[] = [];
		for (let i = 0; i < 61; i++) {
			statuses.push(
				(await api(server, "POST", "/api/v1/licenses/validate", { json: body })).status,
			);
		}
		expect(statuses.at(-1)).toBe(429);

		const r = await runCli(["license", "status", "--online", "--json"], {
			home: h,
			apiUrl: server.url,
		});
		expect(r.code, show(r)).toBe(0);
		expect(r.json).toMatchObject({ licensed: true, revalidation: "failed" });
		expect(String(r.json.network_error)).toMatch(
			/limiting license checks \(60 a minute per license key\) \(429 RATE_LIMITED\)\. It frees in \d+ s/,
		);
		const human = await runCli(["license", "status", "--online"], { home: h, apiUrl: server.url });
		expect(human.code, show(human)).toBe(0);
		expect(human.stdout + human.stderr).toContain("limiting license checks");
	});

	it("a spent activation budget names activations and when they free, and leaves checks alone", async () => {
		const server = await serverWith({});
		const { home: h, key } = await activatedWithKey(server);
		const body = { license_key: key, hardware_id: hashHardwareId("test-machine-1") };
		const statuses: number[] = [];
		for (let i = 0; i < 10; i++) {
			statuses.push(
				(await api(server, "POST", "/api/v1/licenses/activate", { json: body })).status,
			);
		}
		expect(statuses.at(-1)).toBe(429);

		const again = await runCli(["activate", key], { home: h, apiUrl: server.url });
		expect(again.code, show(again)).toBe(1);
		expect(again.stderr).toMatch(
			/limiting activations \(10 an hour per license key\) \(429 RATE_LIMITED\)\. It frees in \d+ min \(at \d\d:\d\d UTC\)/,
		);
		// A check is a read: it does not draw on the activation budget.
		const check = await runCli(["license", "status", "--online", "--json"], {
			home: h,
			apiUrl: server.url,
		});
		expect(check.code, show(check)).toBe(0);
		expect(check.json).toMatchObject({ licensed: true, revalidation: "done", network_error: null });
	});

	it("the background refresh of a day-old token asks the server once, however often the tool starts", async () => {
		const server = await serverWith({});
		const { home: h, id } = await activatedWithKey(server);
		const before = await auditCount("license_validate", id);
		const token = String((await readLicenseJson(h)).token);
		const starts = [];
		for (let i = 0; i < 4; i++) {
			starts.push(
				await runCli(["license", "status", "--json"], {
					home: h,
					apiUrl: server.url,
					faketime: "+25h",
				}),
			);
		}
		expect(starts.map((r) => r.code)).toEqual(Array(4).fill(0));
		expect(starts.map((r) => r.json.revalidation)).toEqual([
			"background",
			...Array(3).fill("skipped"),
		]);
		expect(await tokenReplaced(h, token)).toBe(true);
		expect((await auditCount("license_validate", id)) - before).toBe(1);
	});

	it("is not blocked for good by a lock its holder left behind when it died", async () => {
		const server = await serverWith({});
		const { home: h, id } = await activatedWithKey(server);
		const before = await auditCount("license_validate", id);
		const token = String((await readLicenseJson(h)).token);
		const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
		await writeFile(join(h, "refresh.json.lock"), String(dead));
		const r = await runCli(["license", "status", "--json"], {
			home: h,
			apiUrl: server.url,
			faketime: "+25h",
		});
		expect(r.json.revalidation, show(r)).toBe("background");
		for (let i = 0; i < 50 && (await auditCount("license_validate", id)) === before; i++) {
			await new Promise((ok) => setTimeout(ok, 100));
		}
		expect((await auditCount("license_validate", id)) - before).toBe(1);
		// The refresher writes the new token after the server has answered: wait for it, so the
		// home is not removed under a process still writing into it.
		expect(await tokenReplaced(h, token)).toBe(true);
	});

	it("starts one background refresh when several copies of the tool start at once", async () => {
		const server = await serverWith({});
		const { home: h, id } = await activatedWithKey(server);
		const before = await auditCount("license_validate", id);
		const token = String((await readLicenseJson(h)).token);
		const starts = await Promise.all(
			Array.from({ length: 6 }, () =>
				runCli(["license", "status", "--json"], { home: h, apiUrl: server.url, faketime: "+25h" }),
			),
		);
		expect(starts.map((r) => r.code)).toEqual(Array(6).fill(0));
		expect(starts.filter((r) => r.json.revalidation === "background")).toHaveLength(1);
		expect(starts.filter((r) => r.json.revalidation === "skipped")).toHaveLength(5);
		expect(await tokenReplaced(h, token)).toBe(true);
		expect((await auditCount("license_validate", id)) - before).toBe(1);
	});
});
