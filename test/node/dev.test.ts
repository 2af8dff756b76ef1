/**
 * `npm run dev` (scripts/dev.ts → wrangler dev: the Worker in workerd, local Hyperdrive to the
 * run's database) answers like the deployed Worker: health, an operator-made license, activate
 * and validate with a signed token. It once started and answered every request with
 * MISCONFIGURED (secrets reached the Worker JSON-escaped) while every other suite was green.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium, visitDocs } from "../support/browser";
import { freePort } from "../support/free-port";
import { createLicense, hardwareId, http } from "./support";

let child: ChildProcess;
let baseUrl = "";
let output = "";

beforeAll(async () => {
	const port = await freePort();
	baseUrl = `http://127.0.0.1:${port}`;
	child = spawn("npm", ["run", "dev", "--silent"], {
		// Its own process group, so wrangler and workerd go with it.
		detached: true,
		stdio: ["ignore", "pipe", "pipe"],
		env: {
			...process.env,
			PORT: String(port),
			DATABASE_URL: inject("databaseUrl"),
			// No webhook runs from this server: test/node/webhooks.test.ts runs its own.
			WEBHOOK_DELIVERY_SECONDS: "0",
			ADMIN_TOKEN: inject("adminToken"),
			WRANGLER_SEND_METRICS: "false",
		},
	});
	child.stdout?.on("data", (d: Buffer) => {
		output += d.toString();
	});
	child.stderr?.on("data", (d: Buffer) => {
		output += d.toString();
	});
	const until = Date.now() + 60_000;
	for (;;) {
		const up = await http(`${baseUrl}/healthz`).then(
			(r) => r.status === 200,
			() => false,
		);
		if (up) break;
		if (child.exitCode !== null || Date.now() > until) {
			throw new Error(`npm run dev did not come up:\n${output.slice(-2000)}`);
		}
		await new Promise((ok) => setTimeout(ok, 250));
	}
}, 90_000);

afterAll(async () => {
	if (child?.pid && child.exitCode === null) {
		const exited = new Promise((ok) => child.once("exit", ok));
		process.kill(-child.pid, "SIGTERM");
		await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000))]);
		if (child.exitCode === null) process.kill(-child.pid, "SIGKILL");
	}
});

describe("npm run dev", () => {
	it("serves the Worker in workerd: a license made by the operator activates and validates", async () => {
		const health = await http(`${baseUrl}/healthz`);
		expect(health.body).toEqual({ status: "ok" });
		expect(health.headers["x-content-type-options"]).toBe("nosniff");

		const { key } = await createLicense(baseUrl);
		const hw = hardwareId(`dev-${crypto.randomUUID()}`);
		const activated = await http<{ token: string }>(`${baseUrl}/api/v1/licenses/activate`, {
			json: { license_key: key, hardware_id: hw },
		});
		expect(activated.status, activated.text).toBe(201);
		const validated = await http<{ valid: boolean; code: string; token: string }>(
			`${baseUrl}/api/v1/licenses/validate`,
			{ json: { license_key: key, hardware_id: hw } },
		);
		expect(validated.status, validated.text).toBe(200);
		expect(validated.body).toMatchObject({ valid: true, code: "VALID" });
		// A compact JWS whose header names the development key.
		const [header] = validated.body.token.split(".");
		expect(JSON.parse(Buffer.from(header ?? "", "base64url").toString())).toMatchObject({
			alg: "EdDSA",
			typ: "coditect-license+jwt",
		});
	});

	it("serves /docs from the Worker's static assets: Chromium shows the operations, nothing outside", async () => {
		const browser = await launchChromium();
		try {
			const visit = await visitDocs(browser, baseUrl, {
				expand: ["Licenses"],
				waitFor: ["Liveness and database check", "Validate a license on a machine"],
			});
			expect(visit.outside).toEqual([]);
			expect(visit.problems).toEqual([]);
			expect(visit.fallbackVisible).toBe(false);
		} finally {
			await browser.close();
		}
	}, 60_000);
});
