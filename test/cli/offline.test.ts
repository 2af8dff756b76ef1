/**
 * Offline grace, clock tricks and tampered caches. Time travel runs the CLI under
 * libfaketime; nothing in the product can be told what time it is.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashHardwareId } from "../../cli/fingerprint";
import { encodeBase64Url, encodeUtf8 } from "../../src/kernel/base64url";
import {
	generateSigningKeyPair,
	importSigningKey,
	licenseTokenClaims,
	signLicenseToken,
} from "../../src/kernel/index";
import {
	LicenseServer,
	readLicenseJson,
	runCli,
	show,
	tempHome,
	writeLicenseJson,
} from "./helpers";

let server: LicenseServer;
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

async function activated(
	hardwareId = "test-machine-1",
): Promise<{ home: string; key: string; id: string }> {
	const t = await tempHome();
	cleanups.push(t.cleanup);
	const { key, id } = await server.mintLicense();
	const r = await runCli(["activate", key], { home: t.home, apiUrl: server.url, hardwareId });
	expect(r.code, show(r)).toBe(0);
	return { home: t.home, key, id };
}

function status(
	home: string,
	extra: { faketime?: string; hardwareId?: string; online?: boolean } = {},
) {
	return runCli(["license", "status", "--json", ...(extra.online ? ["--online"] : [])], {
		home,
		apiUrl: server.url,
		...(extra.faketime ? { faketime: extra.faketime } : {}),
		...(extra.hardwareId ? { hardwareId: extra.hardwareId } : {}),
	});
}

async function replaceToken(home: string, edit: (token: string) => string): Promise<void> {
	const stored = await readLicenseJson(home);
	await writeLicenseJson(home, { ...stored, token: edit(String(stored.token)) });
}

describe("the 72-hour offline grace", () => {
	it("holds 25 h later with the server down, and starts a background refresh once", async () => {
		const { home } = await activated();
		await server.down();
		const first = await status(home, { faketime: "+25h" });
		expect(first.code, show(first)).toBe(0);
		expect(first.json).toMatchObject({ licensed: true, offline: true, revalidation: "background" });
		expect(first.json.grace_remaining_s).toBeLessThan(47 * 3600 + 60);
		const second = await status(home, { faketime: "+25h" });
		expect(second.code, show(second)).toBe(0);
		expect(second.json).toMatchObject({ licensed: true, revalidation: "skipped" });
	});

	it("refreshes the token in the background when it is over 24 h old and the server is up", async () => {
		const { home } = await activated();
		const before = String((await readLicenseJson(home)).token);
		const r = await status(home, { faketime: "+25h" });
		expect(r.code, show(r)).toBe(0);
		expect(r.json.revalidation).toBe("background");
		let after = before;
		for (let i = 0; i < 50 && after === before; i++) {
			await new Promise((ok) => setTimeout(ok, 100));
			after = String((await readLicenseJson(home)).token);
		}
		expect(after).not.toBe(before);
	});

	it("ends 73 h later without the network: exit 3 and a clear message", async () => {
		const { home } = await activated();
		await server.down();
		const r = await status(home, { faketime: "+73h" });
		expect(r.code, show(r)).toBe(3);
		expect(r.json).toMatchObject({
			licensed: false,
			code: "GRACE_EXPIRED",
			revalidation: "failed",
		});
		expect(String(r.json.message)).toContain("72-hour offline grace");
	});
});

describe("the clock", () => {
	it("refuses a clock set back more than 5 minutes from the last-seen time", async () => {
		const { home } = await activated();
		await server.down();
		const later = await status(home, { faketime: "+2h" });
		expect(later.code, show(later)).toBe(0);
		const back = await status(home, { faketime: "+1h" });
		expect(back.code, show(back)).toBe(2);
		expect(back.json).toMatchObject({ licensed: false, code: "CLOCK_ROLLBACK" });
		expect(String(back.json.message)).toContain("clock");
		const human = await runCli(["license", "status"], {
			home,
			apiUrl: server.url,
			faketime: "+1h",
		});
		expect(human.stdout).toContain("Correct the date and time");
	});

	it("recovers from a clock that ran ahead through an online check or activate, from the server's signed time", async () => {
		const { home, key } = await activated();
		// The clock runs 2 h ahead once (last-seen follows it), then is put right.
		expect((await status(home, { faketime: "+2h" })).code).toBe(0);
		const refused = await status(home);
		expect(refused.json).toMatchObject({ licensed: false, code: "CLOCK_ROLLBACK" });
		expect(String(refused.json.message)).toContain("coditect license status --online");

		const online = await status(home, { online: true });
		expect(online.code, show(online)).toBe(0);
		expect(online.json).toMatchObject({ licensed: true, offline: false, revalidation: "done" });
		await server.down();
		const offline = await status(home);
		expect(offline.code, show(offline)).toBe(0);
		expect(offline.json).toMatchObject({ licensed: true, offline: true });

		await server.up();
		expect((await status(home, { faketime: "+2h" })).code).toBe(0);
		const again = await runCli(["activate", key], { home, apiUrl: server.url });
		expect(again.code, show(again)).toBe(0);
		const afterActivate = await status(home);
		expect(afterActivate.code, show(afterActivate)).toBe(0);
	});

	it("stays refused with the clock set back, online or not: the server's token is then from the future", async () => {
		const { home } = await activated();
		const back = await status(home, { faketime: "-1h", online: true });
		expect(back.json, show(back)).toMatchObject({ licensed: false });
		expect(["CLOCK_BEHIND", "CLOCK_ROLLBACK"]).toContain(back.json.code);
		await server.down();
		const offline = await status(home, { faketime: "-1h", online: true });
		expect(offline.json, show(offline)).toMatchObject({ licensed: false });
		await server.up();
		// Back at the right time the license holds: the failed attempts stored nothing.
		const now = await status(home);
		expect(now.code, show(now)).toBe(0);
	});

	it("tolerates a clock a little behind (under 5 minutes)", async () => {
		const { home } = await activated();
		const r = await status(home, { faketime: "-2m" });
		expect(r.code, show(r)).toBe(0);
	});

	it("refuses a token issued in the future (clock set back before the token)", async () => {
		const { home } = await activated();
		const r = await status(home, { faketime: "-1h" });
		expect(r.code, show(r)).toBe(2);
		expect(r.json).toMatchObject({ licensed: false, code: "CLOCK_BEHIND" });
	});

	it("treats a deleted last-seen file as suspicious: unlicensed until an online check", async () => {
		const { home } = await activated();
		await rm(join(home, "last-seen"));
		await server.down();
		const offline = await status(home);
		expect(offline.code, show(offline)).toBe(3);
		await server.up();
		const online = await status(home);
		expect(online.code, show(online)).toBe(0);
		expect(online.json).toMatchObject({ licensed: true, revalidation: "done" });
	});
});

describe("a damaged or foreign cache is unlicensed plus an online attempt, never a crash", () => {
	const flipBit = (token: string): string => {
		const [h = "", p = "", s = ""] = token.split(".");
		const i = 10;
		const c = s.charAt(i) === "A" ? "B" : "A";
		return `${h}.${p}.${s.slice(0, i)}${c}${s.slice(i + 1)}`;
	};
	const cases: Array<[string, (token: string) => string]> = [
		["a flipped signature bit", flipBit],
		["a truncated token", (t) => t.slice(0, t.length - 20)],
		[
			"a payload edited to another plan",
			(t) => {
				const [h = "", p = "", s = ""] = t.split(".");
				const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as {
					lic: { plan: string };
				};
				claims.lic.plan = "enterprise";
				return `${h}.${encodeBase64Url(encodeUtf8(JSON.stringify(claims)))}.${s}`;
			},
		],
		[
			"alg: none",
			(t) => {
				const [, p = ""] = t.split(".");
				const header = encodeBase64Url(
					encodeUtf8(JSON.stringify({ alg: "none", typ: "coditect-license+jwt" })),
				);
				return `${header}.${p}.`;
			},
		],
	];

	for (const [name, edit] of cases) {
		it(`${name}: exit 3 offline, re-licensed online`, async () => {
			const { home } = await activated();
			await replaceToken(home, edit);
			await server.down();
			const offline = await status(home);
			expect(offline.code, show(offline)).toBe(3);
			expect(offline.json).toMatchObject({
				licensed: false,
				code: "INVALID_TOKEN",
				revalidation: "failed",
			});
			await server.up();
			const online = await status(home);
			expect(online.code, show(online)).toBe(0);
			expect(online.json).toMatchObject({ licensed: true, code: "VALID", revalidation: "done" });
		});
	}

	it("a token signed by another key is refused even with the right claims", async () => {
		const { home, id } = await activated();
		const stranger = await generateSigningKeyPair();
		const key = await importSigningKey(stranger.privateJwk);
		const forged = await signLicenseToken(
			key,
			licenseTokenClaims({
				issuer: server.url,
				licenseId: id,
				hardwareId: hashHardwareId("test-machine-1"),
				lic: {
					plan: "enterprise",
					status: "active",
					expires_at: null,
					max_activations: 100,
					entitlements: [],
				},
				licenseExpiresAt: null,
			}),
		);
		await replaceToken(home, () => forged);
		await server.down();
		const r = await status(home);
		expect(r.code, show(r)).toBe(3);
		expect(r.json).toMatchObject({ licensed: false, code: "UNKNOWN_KEY" });
	});

	it("a license copied from another machine is refused, and the server does not re-license it", async () => {
		const { home } = await activated("machine-a");
		await server.down();
		const offline = await status(home, { hardwareId: "machine-b" });
		expect(offline.code, show(offline)).toBe(3);
		expect(offline.json).toMatchObject({ licensed: false, code: "WRONG_HARDWARE" });
		await server.up();
		const online = await status(home, { hardwareId: "machine-b" });
		expect(online.code, show(online)).toBe(2);
		expect(online.json).toMatchObject({ licensed: false, code: "NOT_ACTIVATED" });
	});

	it("garbage, an empty file and a file for another server do not crash", async () => {
		const { home } = await activated();
		const path = join(home, "license.json");
		const original = await readFile(path, "utf8");
		for (const content of ["{not json", "", "[]", '{"version":2}']) {
			await writeFile(path, content);
			const r = await status(home);
			expect(r.code, show(r)).toBe(2);
			expect(r.json).toMatchObject({ licensed: false, code: "INVALID_TOKEN" });
			expect(r.stderr).toBe("");
		}
		await writeFile(path, original.replace(server.url, "http://127.0.0.1:1"));
		const foreign = await status(home);
		expect(foreign.code, show(foreign)).toBe(2);
		expect(foreign.json).toMatchObject({ licensed: false, code: "FOREIGN_LICENSE" });
	});

	it("ignores a leftover temp file from a write that crashed before its rename", async () => {
		const { home } = await activated();
		await writeFile(join(home, ".deadbeef0000.tmp"), '{"version":1,"tok');
		const r = await status(home);
		expect(r.code, show(r)).toBe(0);
	});
});
