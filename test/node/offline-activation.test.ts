/**
 * Air-gapped activation through the Node entry over real HTTP on a pooled Postgres
 * (docs/offline-activation.md): the limit holds when operator uploads, online activations and
 * repeated uploads of one file really overlap; a receipt frees its seat exactly once under
 * concurrent uploads; bad files are a 400, never a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeLicenseTokenUnverified } from "../../src/kernel/token/claims";
import type { RunningServer } from "../../src/server";
import { newMachine, releaseFile, requestFile } from "../support/offline-files";
import { closeAgents, createLicense, hardwareId, http, nodeServer, testSql } from "./support";

let server: RunningServer;
const sql = testSql();

beforeAll(async () => {
	server = await nodeServer();
});
afterAll(async () => {
	closeAgents();
	await server.close();
	await sql.end();
});

function upload(licenseId: string, file: unknown) {
	return http<{ created: boolean; activation: { id: string }; token: string }>(
		`${server.url}/api/v1/admin/licenses/${licenseId}/offline-activations`,
		{ json: file, admin: true },
	);
}

async function liveActivations(licenseId: string): Promise<number> {
	const [row] = await sql<[{ n: number }]>`
		select count(*)::int as n from activations
		where license_id = ${licenseId} and deactivated_at is null`;
	return row.n;
}

describe("offline uploads on the Node entry", () => {
	it("keep the limit when twelve machines' requests and online activations race for 3 seats", async () => {
		for (let round = 0; round < 5; round++) {
			const { key, id } = await createLicense(server.url, { max_activations: 3 });
			const machines = await Promise.all(
				Array.from({ length: 8 }, (_, i) => newMachine(hardwareId(`off-${round}-${i}`))),
			);
			// All twelve in flight at once: eight uploads and four online activations.
			const [offline, online] = await Promise.all([
				Promise.all(machines.map((m) => upload(id, requestFile(m, id)))),
				Promise.all(
					Array.from({ length: 4 }, (_, i) =>
						http(`${server.url}/api/v1/licenses/activate`, {
							json: { license_key: key, hardware_id: hardwareId(`on-${round}-${i}`) },
						}),
					),
				),
			]);
			const statuses = [...offline, ...online].map((r) => r.status);
			const why = `round ${round}: ${JSON.stringify(statuses)}`;
			expect(statuses.filter((s) => s === 201).length, why).toBe(3);
			expect(
				statuses.every((s) => s === 201 || s === 403),
				why,
			).toBe(true);
			expect(await liveActivations(id), why).toBe(3);
		}
	}, 120_000);

	it("make one activation when the same request is uploaded ten times at once", async () => {
		const { id } = await createLicense(server.url);
		const machine = await newMachine(hardwareId("same-file"));
		const file = requestFile(machine, id);
		const results = await Promise.all(Array.from({ length: 10 }, () => upload(id, file)));
		const statuses = results.map((r) => r.status).sort();
		expect(statuses, JSON.stringify(statuses)).toEqual([
			200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
		]);
		expect(new Set(results.map((r) => r.body.activation.id)).size).toBe(1);
		for (const r of results) {
			expect(decodeLicenseTokenUnverified(r.body.token)).toMatchObject({
				offline: true,
				nonce: file.nonce,
			});
		}
		expect(await liveActivations(id)).toBe(1);
	});

	it("free the seat once when one receipt is uploaded five times at once", async () => {
		const { id } = await createLicense(server.url, { max_activations: 1 });
		const machine = await newMachine(hardwareId("receipt-race"));
		const file = requestFile(machine, id);
		const held = await upload(id, file);
		expect(held.status, held.text).toBe(201);
		const receipt = await releaseFile(machine, id, held.body.activation.id, String(file.nonce));
		const results = await Promise.all(
			Array.from({ length: 5 }, () =>
				http(`${server.url}/api/v1/admin/licenses/${id}/offline-deactivations`, {
					json: receipt,
					admin: true,
				}),
			),
		);
		const statuses = results.map((r) => r.status).sort();
		expect(statuses, JSON.stringify(statuses)).toEqual([200, 409, 409, 409, 409]);
		const [row] = await sql<[{ n: number }]>`
			select count(*)::int as n from audit_logs where license_id = ${id}
				and action = 'license_deactivate' and result = 'success'`;
		expect(row.n).toBe(1);
		expect(await liveActivations(id)).toBe(0);
	});

	it("answer bad files and a foreign license with 4xx, never 5xx", async () => {
		const { id } = await createLicense(server.url);
		const machine = await newMachine(hardwareId("bad-files"));
		const cases: Array<[unknown, number]> = [
			[requestFile(machine, id, { format: "nope" }), 400],
			[requestFile(machine, id, { machine_key: "x" }), 400],
			[requestFile(machine, "lic_other"), 400],
			[{}, 400],
		];
		for (const [file, status] of cases) {
			const res = await upload(id, file);
			expect(res.status, res.text).toBe(status);
			expect(res.body).toMatchObject({ error: { code: "INVALID_REQUEST" } });
		}
		const missing = await upload("lic_missing", requestFile(machine, "lic_missing"));
		expect(missing.status, missing.text).toBe(404);
		const notJson = await http(`${server.url}/api/v1/admin/licenses/${id}/offline-activations`, {
			headers: { "content-type": "application/json" },
			admin: true,
			method: "POST",
		});
		expect(notJson.status).toBeLessThan(500);
	});
});
