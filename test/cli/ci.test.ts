/** `coditect ci` as a real process against the real Node server: run, lease, release. */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hashApiKey } from "../../src/ci/api-keys";
import { newId } from "../../src/ids";
import { encodeBase64Url } from "../../src/kernel/base64url";
import { importKeyPepper } from "../../src/kernel/license-key";
import { CLI, LicenseServer, runCli, show, tempHome } from "./helpers";

let server: LicenseServer;
let home: string;
let cleanup: () => Promise<void>;
const sql = postgres(inject("databaseUrl"), { max: 2, fetch_types: false, onnotice: () => {} });

beforeAll(async () => {
	server = await LicenseServer.start();
	({ home, cleanup } = await tempHome());
});
afterAll(async () => {
	await server.down();
	await cleanup();
	await sql.end();
});

async function org(plan = "smb"): Promise<{ orgId: string; key: string }> {
	const orgId = newId("org");
	const { id: licenseId } = await server.mintLicense({ plan });
	const key = `cdt_ci_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
	const pepper = await importKeyPepper(inject("pepper"));
	await sql`insert into orgs (id, name) values (${orgId}, 'cli')`;
	await sql`update licenses set org_id = ${orgId} where id = ${licenseId}`;
	await sql`insert into org_api_keys (id, org_id, name, key_hash, key_last4)
		values (${newId("cik")}, ${orgId}, 'ci', ${await hashApiKey(pepper, key)}, ${key.slice(-4)})`;
	return { orgId, key };
}

const leasesOf = (orgId: string) =>
	sql<{ id: string; released_at: Date | null; expires_at: Date }[]>`
		select id, released_at, expires_at from ci_leases where org_id = ${orgId} order by created_at`;

/** A child command that prints what it got from `ci run` and exits with `code`. */
const probe = (code: number) => [
	process.execPath,
	"-e",
	`const t = process.env.CODITECT_CI_TOKEN || ""; const h = JSON.parse(Buffer.from(t.split(".")[0], "base64url")); console.log(JSON.stringify({ typ: h.typ, lease: process.env.CODITECT_CI_LEASE_ID, file: require("fs").readFileSync(process.env.CODITECT_CI_TOKEN_FILE, "utf8") === t })); process.exit(${code});`,
];

describe("coditect ci run", () => {
	it("leases a slot, hands the token to the command, releases it and returns the command's exit code", async () => {
		const { orgId, key } = await org();
		const r = await runCli(["ci", "run", "--job", "build-1", "--", ...probe(7)], {
			home,
			apiUrl: server.url,
			env: { CODITECT_API_KEY: key },
		});
		expect(r.code, show(r)).toBe(7);
		const seen = JSON.parse(r.stdout.trim()) as { typ: string; lease: string; file: boolean };
		expect(seen).toMatchObject({ typ: "coditect-ci+jwt", file: true });
		const [lease] = await leasesOf(orgId);
		expect(lease?.id).toBe(seen.lease);
		expect(lease?.released_at, "released on exit").not.toBeNull();
		expect(r.stderr).not.toContain(key);

		const ok = await runCli(["ci", "run", "--job", "build-2", "--", ...probe(0)], {
			home,
			apiUrl: server.url,
			env: { CODITECT_API_KEY: key },
		});
		expect(ok.code, show(ok)).toBe(0);
	});

	it("leaves the wrapped command's own --help and --json to it", async () => {
		const { key } = await org();
		const r = await runCli(["ci", "run", "--job", "args", "--", "/bin/echo", "--help", "--json"], {
			home,
			apiUrl: server.url,
			env: { CODITECT_API_KEY: key },
		});
		expect(r.code, show(r)).toBe(0);
		expect(r.stdout.trim()).toBe("--help --json");
		expect(r.stdout).not.toContain("USAGE");
	});

	it("licenses the job's own license status and checkLicense() with the lease, no machine id needed", async () => {
		const { key } = await org();
		const r = await runCli(
			[
				"ci",
				"run",
				"--job",
				"status-1",
				"--",
				process.execPath,
				CLI,
				"license",
				"status",
				"--json",
			],
			{ home, apiUrl: server.url, env: { CODITECT_API_KEY: key, CODITECT_HARDWARE_ID: "" } },
		);
		expect(r.code, show(r)).toBe(0);
		const status = JSON.parse(r.stdout.trim()) as {
			licensed: boolean;
			code: string;
			offline: boolean;
		};
		expect(status).toMatchObject({ licensed: true, code: "VALID", offline: true });
		// Outside the job the same home is not licensed by it.
		const after = await runCli(["license", "status", "--json"], { home, apiUrl: server.url });
		expect(after.code, show(after)).toBe(2);
	});

	it("forwards SIGTERM to the command, releases the lease and exits 143", async () => {
		const { orgId, key } = await org();
		const child = spawn(
			process.execPath,
			[
				CLI,
				"ci",
				"run",
				"--job",
				"sig",
				"--",
				process.execPath,
				"-e",
				"console.error('started'); setInterval(() => {}, 1000)",
			],
			{
				env: {
					PATH: process.env.PATH ?? "",
					HOME: home,
					CODITECT_HOME: home,
					CODITECT_API_URL: server.url,
					CODITECT_API_KEY: key,
				},
				stdio: ["ignore", "pipe", "pipe"],
			},
		);
		let stderr = "";
		await new Promise<void>((ok) => {
			child.stderr.on("data", (d: Buffer) => {
				stderr += d.toString();
				if (stderr.includes("started")) ok();
			});
		});
		const exited = new Promise<number | null>((ok) => child.on("close", (code) => ok(code)));
		child.kill("SIGTERM");
		expect(await exited, stderr).toBe(143);
		const [lease] = await leasesOf(orgId);
		expect(lease?.released_at, stderr).not.toBeNull();
	});

	it("keeps the lease alive with heartbeats while the command runs", async () => {
		const { orgId, key } = await org();
		// With --ttl 60 the CLI renews every 20 s; the command waits for the renewed token file.
		const wait = `const fs = require("fs"); const f = process.env.CODITECT_CI_TOKEN_FILE; const t0 = process.env.CODITECT_CI_TOKEN; const i = setInterval(() => { if (fs.readFileSync(f, "utf8") !== t0) { clearInterval(i); process.exit(0); } }, 200);`;
		const r = await runCli(
			["ci", "run", "--job", "long", "--ttl", "60", "--", process.execPath, "-e", wait],
			{
				home,
				apiUrl: server.url,
				env: { CODITECT_API_KEY: key },
				timeoutMs: 28_000,
			},
		);
		expect(r.code, show(r)).toBe(0);
		const [lease] = await leasesOf(orgId);
		expect(lease?.released_at).not.toBeNull();
	}, 30_000);

	it("leases with the job's GitHub Actions OIDC token when there is no API key", async () => {
		const { orgId } = await org();
		const owner = `acme-${crypto.randomUUID().slice(0, 8)}`;
		await sql`insert into ci_trust_rules (id, org_id, name, issuer, audience, conditions)
			values (${newId("ctr")}, ${orgId}, 'gh', ${inject("oauthIssuer")}, ${server.url},
				${sql.json({ repository_owner: owner, repository: `${owner}/*` })})`;
		// GitHub's token endpoint, played locally: it mints for the audience the CLI asks for.
		const requests: string[] = [];
		const github: Server = createServer(async (req, res) => {
			const url = new URL(req.url ?? "/", "http://x");
			requests.push(`${req.headers.authorization} ${url.searchParams.get("audience")}`);
			const minted = await fetch(`${inject("oauthIssuer")}/_test/ci-id-token`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({
					claims: {
						aud: url.searchParams.get("audience"),
						repository: `${owner}/widgets`,
						repository_owner: owner,
						sub: `repo:${owner}/widgets:ref:refs/heads/main`,
					},
				}),
			});
			const { token } = (await minted.json()) as { token: string };
			res.writeHead(200, { "content-type": "application/json" });
			res.end(JSON.stringify({ value: token }));
		});
		await new Promise<void>((ok) => github.listen(0, "127.0.0.1", ok));
		const port = (github.address() as AddressInfo).port;
		try {
			const r = await runCli(["ci", "run", "--", ...probe(0)], {
				home,
				apiUrl: server.url,
				env: {
					ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
					ACTIONS_ID_TOKEN_REQUEST_TOKEN: "gh-request-token",
					GITHUB_REPOSITORY: `${owner}/widgets`,
					GITHUB_RUN_ID: "42",
					GITHUB_RUN_ATTEMPT: "1",
					GITHUB_JOB: "test",
				},
			});
			expect(r.code, show(r)).toBe(0);
			expect(requests).toEqual([`Bearer gh-request-token ${server.url}`]);
			const [row] = await sql<{ job_id: string; granted_by: string }[]>`
				select job_id, granted_by from ci_leases where org_id = ${orgId}`;
			expect(row).toMatchObject({ job_id: `${owner}/widgets/42/1/test` });
			expect(row?.granted_by).toMatch(/^oidc:ctr_/);
		} finally {
			github.close();
		}
	});

	it("without a credential or a job id is a clear error, not a lease", async () => {
		const none = await runCli(["ci", "run", "--job", "x", "--", "true"], {
			home,
			apiUrl: server.url,
		});
		expect(none.code, show(none)).toBe(2);
		expect(none.stderr).toContain("CODITECT_API_KEY");
		const noJob = await runCli(["ci", "lease"], {
			home,
			apiUrl: server.url,
			env: { CODITECT_API_KEY: "cdt_ci_x" },
		});
		expect(noJob.code, show(noJob)).toBe(1);
		expect(noJob.stderr).toContain("--job");
	});
});

describe("coditect ci lease / release", () => {
	it("lease writes the token to a file, release frees it by that file; a full plan is exit 2", async () => {
		const { orgId, key } = await org("team"); // 1 runner
		const file = join(home, "ci-token");
		const leased = await runCli(
			["ci", "lease", "--job", "step-1", "--token-file", file, "--json"],
			{
				home,
				apiUrl: server.url,
				env: { CODITECT_API_KEY: key },
			},
		);
		expect(leased.code, show(leased)).toBe(0);
		expect(leased.json).toMatchObject({ job_id: "step-1", token_file: file });
		expect(leased.stdout).not.toContain((await readFile(file, "utf8")).slice(0, 40));

		const full = await runCli(["ci", "lease", "--job", "step-2", "--json"], {
			home,
			apiUrl: server.url,
			env: { CODITECT_API_KEY: key },
		});
		expect(full.code, show(full)).toBe(2);
		expect(full.json).toMatchObject({
			error: { code: "CI_CONCURRENCY_LIMIT", limit: 1, active: 1 },
		});

		const released = await runCli(["ci", "release", "--token-file", file, "--json"], {
			home,
			apiUrl: server.url,
		});
		expect(released.code, show(released)).toBe(0);
		expect(released.json).toMatchObject({ released: true, lease_id: leased.json.lease_id });
		const rows = await leasesOf(orgId);
		expect(rows.map((l) => l.released_at !== null)).toEqual([true]);

		const printed = await runCli(["ci", "lease", "--job", "step-2"], {
			home,
			apiUrl: server.url,
			env: { CODITECT_API_KEY: key },
		});
		expect(printed.code, show(printed)).toBe(0);
		expect(printed.stdout.trim().split(".")).toHaveLength(3);
	});
});
