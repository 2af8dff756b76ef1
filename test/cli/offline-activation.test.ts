/**
 * Air-gapped activation end to end (docs/offline-activation.md): the CLI as real processes with
 * real homes — one for the air-gapped machine, which never gets a server URL that answers, one
 * for the admin's machine — against the real Node server. Time travel is libfaketime.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { createAccount, PASSWORD } from "./account-helpers";
import { type LicenseServer, perTest, readLicenseJson, runCli, show } from "./helpers";

const { serverWith, home } = perTest();

async function readJson(path: string): Promise<Record<string, unknown>> {
	return JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
}

/** The operator's CLI on the admin machine (CODITECT_ADMIN_TOKEN). */
function asOperator(server: LicenseServer, adminHome: string, args: string[]) {
	return runCli(["admin", ...args, "--json"], {
		home: adminHome,
		// Files written by default (no --out) land in the admin's home, never in the checkout.
		cwd: adminHome,
		apiUrl: server.url,
		env: { CODITECT_ADMIN_TOKEN: inject("adminToken") },
	});
}

/**
 * The air-gapped machine's CLI. Its API URL is the server's (tokens name their issuer), but
 * each step that matters runs with the server stopped: nothing here may need the network.
 */
function onMachine(server: LicenseServer, machineHome: string, args: string[], faketime?: string) {
	return runCli(args, {
		home: machineHome,
		cwd: machineHome,
		apiUrl: server.url,
		hardwareId: "airgapped-machine-1",
		...(faketime ? { faketime } : {}),
	});
}

async function requestOn(server: LicenseServer, machineHome: string, licenseId: string) {
	const out = join(machineHome, "request.json");
	const r = await onMachine(server, machineHome, [
		"activate",
		"--offline-request",
		"--license",
		licenseId,
		"--out",
		out,
		"--json",
	]);
	expect(r.code, show(r)).toBe(0);
	return out;
}

describe("an air-gapped machine", () => {
	it("requests, is activated by the operator's upload, runs offline for months, releases its seat with a receipt", async () => {
		const server = await serverWith({});
		const { id } = await server.mintLicense({ plan: "professional", max_activations: 1 });
		const [machine, admin] = [await home(), await home()];

		await server.down();
		const requestFile = await requestOn(server, machine, id);
		const request = await readJson(requestFile);
		expect(request).toMatchObject({
			format: "coditect-offline-request",
			version: 1,
			license_id: id,
			machine_key: { kty: "OKP", crv: "Ed25519" },
		});
		expect(JSON.stringify(request)).not.toContain('"d"');
		// The private half stays home, 0600.
		const key = await readJson(join(machine, "machine-key.json"));
		expect(typeof key.d).toBe("string");

		await server.up();
		const licenseOut = join(admin, "license.json");
		const up = await asOperator(server, admin, [
			"offline-activate",
			requestFile,
			"--out",
			licenseOut,
		]);
		expect(up.code, show(up)).toBe(0);
		expect(up.json).toMatchObject({ created: true, license_id: id, license_file: licenseOut });
		// The same file again: the same seat, no second activation.
		const again = await asOperator(server, admin, [
			"offline-activate",
			requestFile,
			"--out",
			join(admin, "again.json"),
		]);
		expect(again.code, show(again)).toBe(0);
		expect(again.json).toMatchObject({ created: false, activation_id: up.json.activation_id });
		// The limit (1) holds: another machine's request is refused.
		const other = await home();
		const otherRequest = await runCli(
			["activate", "--offline-request", "--license", id, "--out", join(other, "r.json")],
			{ home: other, apiUrl: server.url, hardwareId: "airgapped-machine-2" },
		);
		expect(otherRequest.code, show(otherRequest)).toBe(0);
		const full = await asOperator(server, admin, ["offline-activate", join(other, "r.json")]);
		expect(full.code, show(full)).toBe(2);
		expect(full.json).toMatchObject({ error: { code: "ACTIVATION_LIMIT_REACHED" } });

		await server.down();
		const install = await onMachine(server, machine, [
			"activate",
			"--offline-response",
			licenseOut,
			"--json",
		]);
		expect(install.code, show(install)).toBe(0);
		expect(install.json).toMatchObject({ activated: true, licensed: true, offline_license: true });
		expect((await readLicenseJson(machine)).source).toBe("offline");

		// Months later, server still down: licensed, no grace, no revalidation.
		for (const faketime of [undefined, "+100d", "+200d"]) {
			const status = await onMachine(server, machine, ["license", "status", "--json"], faketime);
			expect(status.code, show(status)).toBe(0);
			expect(status.json).toMatchObject({
				licensed: true,
				offline: true,
				offline_license: true,
				revalidation: "not_needed",
				network_error: null,
			});
		}
		const online = await onMachine(
			server,
			machine,
			["license", "status", "--online", "--json"],
			"+200d",
		);
		expect(online.code, show(online)).toBe(0);
		expect(online.json).toMatchObject({ licensed: true, revalidation: "skipped" });
		// The clock set back from where it has been is still refused.
		const rolledBack = await onMachine(server, machine, ["license", "status", "--json"], "+100d");
		expect(rolledBack.code, show(rolledBack)).toBe(2);
		expect(rolledBack.json).toMatchObject({ licensed: false, code: "CLOCK_ROLLBACK" });
		// And it ends with the file: a year after issue (no license end), no grace after.
		const ended = await onMachine(server, machine, ["license", "status", "--json"], "+366d");
		expect(ended.code, show(ended)).toBe(2);
		expect(ended.json).toMatchObject({ licensed: false, code: "EXPIRED", offline_license: true });

		const receiptFile = join(machine, "receipt.json");
		const bye = await onMachine(
			server,
			machine,
			["deactivate", "--offline", "--out", receiptFile, "--json"],
			"+200d",
		);
		expect(bye.code, show(bye)).toBe(0);
		expect(bye.json).toMatchObject({ deactivated: true, local_deleted: true });
		const gone = await onMachine(server, machine, ["license", "status", "--json"], "+200d");
		expect(gone.json).toMatchObject({ licensed: false, code: "NOT_ACTIVATED" });

		await server.up();
		const freed = await asOperator(server, admin, ["offline-deactivate", receiptFile]);
		expect(freed.code, show(freed)).toBe(0);
		expect(freed.json).toEqual({ freed: up.json.activation_id });
		const reuse = await asOperator(server, admin, ["offline-deactivate", receiptFile]);
		expect(reuse.code, show(reuse)).toBe(1);
		expect(reuse.json).toMatchObject({ error: { code: "CONFLICT" } });
		// The seat is free: the other machine's request fits now.
		const fits = await asOperator(server, admin, ["offline-activate", join(other, "r.json")]);
		expect(fits.code, show(fits)).toBe(0);
		// Without --out the license file is coditect-offline-license.json where the command ran.
		expect(fits.json.license_file).toBe(join(admin, "coditect-offline-license.json"));
		expect((await readJson(join(admin, "coditect-offline-license.json"))).format).toBe(
			"coditect-offline-license",
		);
	});

	it("installs only the answer to its own pending request, and only a verified one", async () => {
		const server = await serverWith({});
		const { id } = await server.mintLicense();
		const [machine, admin] = [await home(), await home()];
		const first = await requestOn(server, machine, id);
		const firstAnswer = join(admin, "first.json");
		expect(
			(await asOperator(server, admin, ["offline-activate", first, "--out", firstAnswer])).code,
		).toBe(0);
		// A newer request replaces the pending one: the old answer no longer installs.
		const second = await requestOn(server, machine, id);
		await server.down();
		const stale = await onMachine(server, machine, [
			"activate",
			"--offline-response",
			firstAnswer,
			"--json",
		]);
		expect(stale.code, show(stale)).toBe(2);
		expect(stale.json).toMatchObject({ error: { code: "REQUEST_MISMATCH" } });

		await server.up();
		const secondAnswer = join(admin, "second.json");
		expect(
			(await asOperator(server, admin, ["offline-activate", second, "--out", secondAnswer])).code,
		).toBe(0);
		await server.down();
		// Tampered: one payload character changed, the signature no longer matches.
		const file = await readJson(secondAnswer);
		const [h, p, s] = String(file.token).split(".");
		const payload = JSON.parse(Buffer.from(String(p), "base64url").toString());
		payload.lic.plan = "enterprise";
		const forged = join(admin, "forged.json");
		await writeFile(
			forged,
			JSON.stringify({
				...file,
				token: `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`,
			}),
		);
		const bad = await onMachine(server, machine, [
			"activate",
			"--offline-response",
			forged,
			"--json",
		]);
		expect(bad.code, show(bad)).toBe(2);
		expect(bad.json).toMatchObject({ error: { code: "TOKEN_REJECTED" } });
		// Another machine cannot install it.
		const elsewhere = await runCli(["activate", "--offline-response", secondAnswer, "--json"], {
			home: machine,
			apiUrl: server.url,
			hardwareId: "someone-else",
		});
		expect(elsewhere.code, show(elsewhere)).toBe(2);
		expect(elsewhere.json).toMatchObject({ error: { code: "TOKEN_REJECTED" } });
		const notAFile = await onMachine(server, machine, [
			"activate",
			"--offline-response",
			first,
			"--json",
		]);
		expect(notAFile.code, show(notAFile)).toBe(2);
		expect(notAFile.json).toMatchObject({ error: { code: "INVALID_OFFLINE_FILE" } });

		const ok = await onMachine(server, machine, [
			"activate",
			"--offline-response",
			secondAnswer,
			"--json",
		]);
		expect(ok.code, show(ok)).toBe(0);
		// A plain deactivate would need the server; it points at --offline instead.
		const plain = await onMachine(server, machine, ["deactivate", "--json"]);
		expect(plain.code, show(plain)).toBe(1);
		expect(plain.json).toMatchObject({ error: { code: "OFFLINE_LICENSE" } });
		// Offline options are refused where they mean nothing, before anything is written.
		for (const args of [
			["activate", "--license", id, "--json"],
			["activate", "--offline-request", "--json"],
			["activate", "--offline-request", "--license", "not-an-id", "--json"],
		]) {
			const r = await onMachine(server, machine, args);
			expect(r.code, show(r)).toBe(1);
			expect(r.json).toMatchObject({ error: { code: "USAGE" } });
		}
	});

	it("recovers from a deleted last-seen file only through a new request, for the same seat", async () => {
		const server = await serverWith({});
		const { id } = await server.mintLicense({ plan: "professional", max_activations: 1 });
		const [machine, admin] = [await home(), await home()];
		const first = await requestOn(server, machine, id);
		const answer = join(admin, "first.json");
		const up = await asOperator(server, admin, ["offline-activate", first, "--out", answer]);
		expect(up.code, show(up)).toBe(0);
		await server.down();
		expect(
			(await onMachine(server, machine, ["activate", "--offline-response", answer])).code,
		).toBe(0);
		await rm(join(machine, "last-seen"));
		const refused = await onMachine(server, machine, ["license", "status", "--json"]);
		expect(refused.code, show(refused)).toBe(2);
		expect(refused.json).toMatchObject({
			licensed: false,
			code: "INVALID_TOKEN",
			offline_license: true,
			network_error: null,
		});
		expect(String(refused.json.message)).toContain("--offline-request");

		const second = await requestOn(server, machine, id);
		await server.up();
		const renewed = join(admin, "second.json");
		const again = await asOperator(server, admin, ["offline-activate", second, "--out", renewed]);
		expect(again.code, show(again)).toBe(0);
		expect(again.json).toMatchObject({ created: false, activation_id: up.json.activation_id });
		await server.down();
		expect(
			(await onMachine(server, machine, ["activate", "--offline-response", renewed])).code,
		).toBe(0);
		const ok = await onMachine(server, machine, ["license", "status", "--json"]);
		expect(ok.code, show(ok)).toBe(0);
	});

	it("lets the license's owner upload with their session, and nobody else", async () => {
		const server = await serverWith({ mail: true });
		const owner = await createAccount(server);
		const stranger = await createAccount(server);
		const { id } = await server.mintLicense({ plan: "professional", owner_email: owner.email });
		const machine = await home();
		const request = await requestOn(server, machine, id);
		const login = async (email: string) => {
			const h = await home();
			const r = await runCli(["login", "--email", email, "--password-stdin"], {
				home: h,
				apiUrl: server.url,
				stdin: `${PASSWORD}\n`,
			});
			expect(r.code, show(r)).toBe(0);
			return h;
		};
		const strangerHome = await login(stranger.email);
		const refused = await runCli(["admin", "offline-activate", request, "--json"], {
			home: strangerHome,
			cwd: strangerHome,
			apiUrl: server.url,
		});
		expect(refused.code, show(refused)).not.toBe(0);
		expect(refused.json).toMatchObject({ error: { code: "LICENSE_NOT_FOUND" } });
		const ownerHome = await login(owner.email);
		const answer = join(ownerHome, "answer.json");
		const ok = await runCli(["admin", "offline-activate", request, "--out", answer, "--json"], {
			home: ownerHome,
			cwd: ownerHome,
			apiUrl: server.url,
		});
		expect(ok.code, show(ok)).toBe(0);
		await server.down();
		const installed = await onMachine(server, machine, ["activate", "--offline-response", answer]);
		expect(installed.code, show(installed)).toBe(0);
		expect(installed.stdout).toContain("activated offline");
		const human = await onMachine(server, machine, ["license", "status"]);
		expect(human.code, show(human)).toBe(0);
		expect(human.stdout).toContain("offline license left");
	});
});
