/**
 * `coditect org webhooks` as a real process against the real Node server: an owner adds an
 * endpoint (the secret printed once), lists it, sees an event queued for it, rotates the
 * secret, and disables it; wrong ids and refused URLs are usage errors, never a crash.
 */
import { describe, expect, it } from "vitest";
import { api, loggedIn } from "./account-helpers";
import { perTest, runCli, show } from "./helpers";

const { serverWith, home } = perTest();

interface Endpoint {
	id: string;
	url: string;
	events: string[];
	disabled_at: string | null;
	previous_secret_expires_at: string | null;
}

describe("coditect org webhooks", () => {
	it("adds (secret once), lists, shows deliveries, rotates and removes an endpoint", async () => {
		const server = await serverWith({ mail: true });
		const owner = await loggedIn(server, home);
		const created = await api(server, "POST", "/api/v1/orgs", {
			json: { name: "Hooks CLI" },
			bearer: owner.session.access_token,
		});
		expect(created.status).toBe(201);
		const orgId = String(created.body.id);
		const on = { home: owner.home, apiUrl: server.url };

		const added = await runCli(
			[
				"org",
				"webhooks",
				"add",
				"https://hooks.example.com/cli",
				"--events",
				"license.created, seat.assigned",
			],
			on,
		);
		expect(added.code, show(added)).toBe(0);
		const secret = added.stdout.match(/whsec_[0-9a-f]{64}/)?.[0];
		expect(secret, show(added)).toBeDefined();
		expect(added.stderr).toMatch(/shown this once/);

		const listed = await runCli(["org", "webhooks", "list", "--json"], on);
		expect(listed.code, show(listed)).toBe(0);
		const { endpoints } = JSON.parse(listed.stdout) as { endpoints: Endpoint[] };
		expect(endpoints).toHaveLength(1);
		const [endpoint] = endpoints as [Endpoint];
		expect(endpoint).toMatchObject({
			url: "https://hooks.example.com/cli",
			events: ["license.created", "seat.assigned"],
			disabled_at: null,
		});
		expect(listed.stdout).not.toContain("whsec_");
		const human = await runCli(["org", "webhooks"], on);
		expect(human.code, show(human)).toBe(0);
		expect(human.stdout).toContain(endpoint.id);

		// A license for the org queues a license.created for the endpoint.
		await server.admin("/licenses", { plan: "team", owner_email: owner.email, org_id: orgId });
		const log = await runCli(
			["org", "webhooks", "deliveries", endpoint.id, "--limit", "5", "--json"],
			on,
		);
		expect(log.code, show(log)).toBe(0);
		const { deliveries } = JSON.parse(log.stdout) as { deliveries: Array<{ event_type: string }> };
		expect(deliveries.map((d) => d.event_type)).toEqual(["license.created"]);

		const rotated = await runCli(["org", "webhooks", "rotate", endpoint.id, "--json"], on);
		expect(rotated.code, show(rotated)).toBe(0);
		const turn = JSON.parse(rotated.stdout) as { endpoint: Endpoint; secret: string };
		expect(turn.secret).toMatch(/^whsec_/);
		expect(turn.secret).not.toBe(secret);
		expect(turn.endpoint.previous_secret_expires_at).not.toBeNull();

		const removed = await runCli(["org", "webhooks", "remove", endpoint.id], on);
		expect(removed.code, show(removed)).toBe(0);
		const after = await runCli(["org", "webhooks", "list", "--json"], on);
		expect(
			(JSON.parse(after.stdout) as { endpoints: Endpoint[] }).endpoints[0]?.disabled_at,
		).not.toBeNull();
	});

	it("answers a wrong id, a refused URL and bad flags with exit 1 and a message", async () => {
		const server = await serverWith({ mail: true });
		const owner = await loggedIn(server, home);
		await api(server, "POST", "/api/v1/orgs", {
			json: { name: "Hooks CLI" },
			bearer: owner.session.access_token,
		});
		const on = { home: owner.home, apiUrl: server.url };

		const wrong = await runCli(["org", "webhooks", "rotate", "whe_nope", "--json"], on);
		expect(wrong.code, show(wrong)).toBe(1);
		expect(JSON.parse(wrong.stdout)).toMatchObject({ error: { code: "NO_SUCH_WEBHOOK" } });

		const loopback = await runCli(
			["org", "webhooks", "add", "https://127.0.0.1/in", "--events", "license.created"],
			on,
		);
		expect(loopback.code, show(loopback)).toBe(1);
		expect(loopback.stderr).toMatch(/public address/);

		const unknown = await runCli(
			["org", "webhooks", "add", "https://hooks.example.com/x", "--events", "license.exploded"],
			on,
		);
		expect(unknown.code, show(unknown)).toBe(1);

		const limit = await runCli(["org", "webhooks", "deliveries", "whe_x", "--limit", "0"], on);
		expect(limit.code, show(limit)).toBe(1);
		expect(limit.stderr).toMatch(/--limit/);
	});
});
