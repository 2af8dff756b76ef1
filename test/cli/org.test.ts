/**
 * `coditect org` and `coditect machines` as real processes against the real Node server: an
 * owner invites by email, the invitee joins with the mailed code and activates under their seat,
 * lists and frees their machine; the owner removes them.
 */
import { describe, expect, inject, it } from "vitest";
import { api, loggedIn } from "./account-helpers";
import { perTest, runCli, show } from "./helpers";

const { serverWith, home } = perTest();

async function mailedOrgCode(to: string): Promise<string> {
	for (let i = 0; i < 100; i++) {
		const res = await fetch(`${inject("oauthIssuer")}/_test/mails?to=${encodeURIComponent(to)}`);
		const { mails } = (await res.json()) as { mails: Array<{ text: string }> };
		const code = mails.at(-1)?.text.match(/ORG-[0-9A-Z-]+/)?.[0];
		if (code) return code;
		await new Promise((ok) => setTimeout(ok, 50));
	}
	throw new Error(`no invitation mailed to ${to}`);
}

describe("coditect org and machines", () => {
	it("invites, joins, activates under the seat, lists and frees machines, and removes", async () => {
		const server = await serverWith({ mail: true });
		const owner = await loggedIn(server, home);
		const created = await api(server, "POST", "/api/v1/orgs", {
			json: { name: "Acme" },
			bearer: owner.session.access_token,
		});
		expect(created.status).toBe(201);
		const orgId = String(created.body.id);
		await server.admin("/licenses", {
			plan: "team",
			owner_email: owner.email,
			org_id: orgId,
			seats: 3,
		});
		const member = await loggedIn(server, home);
		const on = (h: string) => ({ home: h, apiUrl: server.url });

		const invited = await runCli(["org", "invite", member.email], on(owner.home));
		expect(invited.code, show(invited)).toBe(0);
		const joined = await runCli(
			["org", "join", await mailedOrgCode(member.email)],
			on(member.home),
		);
		expect(joined.code, show(joined)).toBe(0);
		expect(joined.stdout).toContain("Acme");

		const listed = await runCli(["org", "--json"], on(owner.home));
		expect(listed.code, show(listed)).toBe(0);
		const { orgs } = JSON.parse(listed.stdout) as {
			orgs: Array<{ seats: { used: number; total: number }; members: Array<{ email: string }> }>;
		};
		expect(orgs[0]?.seats).toMatchObject({ used: 2, total: 3 });
		expect(orgs[0]?.members.map((m) => m.email)).toContain(member.email);

		const activated = await runCli(["activate"], {
			...on(member.home),
			env: { CODITECT_HARDWARE_ID: `org-cli-${member.email}` },
		});
		expect(activated.code, show(activated)).toBe(0);
		const machines = await runCli(["machines", "--json"], on(member.home));
		expect(machines.code, show(machines)).toBe(0);
		const held = (JSON.parse(machines.stdout) as { machines: Array<{ id: string }> }).machines;
		expect(held).toHaveLength(1);
		const freed = await runCli(["machines", "free", held[0]?.id ?? ""], on(member.home));
		expect(freed.code, show(freed)).toBe(0);
		const after = await runCli(["machines", "--json"], on(member.home));
		expect((JSON.parse(after.stdout) as { machines: unknown[] }).machines).toHaveLength(0);

		const removed = await runCli(["org", "remove", member.email], on(owner.home));
		expect(removed.code, show(removed)).toBe(0);
		const gone = await runCli(["org", "--json"], on(member.home));
		expect((JSON.parse(gone.stdout) as { orgs: unknown[] }).orgs).toHaveLength(0);
		const unknown = await runCli(["org", "remove", "nobody@example.test"], on(owner.home));
		expect(unknown.code).toBe(1);
	});
});
