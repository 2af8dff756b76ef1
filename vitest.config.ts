import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** The Worker inside workerd, Hyperdrive pointed at the run's real database. */
const workerd = () =>
	cloudflareTest(({ inject }) => ({
		wrangler: { configPath: "./wrangler.toml" },
		miniflare: {
			bindings: {
				PUBLIC_URL: "http://license.test",
				// A line per request would bury the test output; test/worker/request-log.test.ts
				// turns it back on. (Node and CLI test servers get a silent log instead.)
				LOG_REQUESTS: "false",
				LICENSE_SIGNING_KEY: inject("signingKey"),
				LICENSE_KEY_PEPPER: inject("pepper"),
				JWT_SECRET: inject("jwtSecret"),
				ADMIN_TOKEN: inject("adminToken"),
				// Google and GitHub are both played by oauth2-mock-server; Resend by a
				// route on the same local server (test/support/oauth-mock-setup.ts).
				GOOGLE_CLIENT_ID: "google-test-client",
				GOOGLE_CLIENT_SECRET: "google-test-secret",
				GOOGLE_ISSUER: inject("oauthIssuer"),
				GITHUB_CLIENT_ID: "github-test-client",
				GITHUB_CLIENT_SECRET: "github-test-secret",
				GITHUB_AUTHORIZATION_URL: `${inject("oauthIssuer")}/authorize`,
				GITHUB_TOKEN_URL: `${inject("oauthIssuer")}/token`,
				GITHUB_API_URL: inject("oauthIssuer"),
				RESEND_API_KEY: inject("resendApiKey"),
				RESEND_API_BASE: inject("oauthIssuer"),
				// SSO domain verification asks the same local server (a fake DNS-over-HTTPS resolver).
				DNS_OVER_HTTPS_URL: `${inject("oauthIssuer")}/dns-query`,
				STRIPE_SECRET_KEY: inject("stripeSecretKey"),
				STRIPE_WEBHOOK_SECRET: inject("stripeWebhookSecret"),
				STRIPE_API_BASE: inject("stripeApiBase"),
			},
			hyperdrives: {
				HYPERDRIVE: inject("databaseUrl"),
				HYPERDRIVE_FRESH: inject("databaseUrl"),
			},
		},
	}));

export default defineConfig({
	test: {
		// On Node, outside any project's resolve conditions (workerd's would pick postgres' cf build).
		globalSetup: [
			"test/support/docs-assets-setup.ts",
			"test/support/global-setup.ts",
			"test/support/oauth-mock-setup.ts",
			"test/support/stripe-fake-setup.ts",
			"test/support/webhook-receiver-setup.ts",
		],
		projects: [
			{
				test: {
					name: "unit",
					include: ["test/unit/**/*.test.ts"],
					environment: "node",
				},
			},
			{
				// The Node entry (src/server.ts) as a real server on a loopback port: addresses, limits,
				// retention, races and faults over real HTTP on a pooled Postgres.
				test: {
					name: "node",
					include: ["test/node/**/*.test.ts"],
					environment: "node",
					testTimeout: 60_000,
					hookTimeout: 60_000,
				},
			},
			{
				// The CLI as a real process (the esbuild bundle) against the real Node server.
				test: {
					name: "cli",
					include: ["test/cli/**/*.test.ts"],
					environment: "node",
					globalSetup: ["test/cli/build.setup.ts"],
					testTimeout: 30_000,
					hookTimeout: 60_000,
				},
			},
			{
				plugins: [workerd()],
				test: {
					name: "worker",
					include: ["test/worker/**/*.test.ts"],
					testTimeout: 30_000,
					// A beforeAll that signs users up (Argon2id in wasm) ran past the 10 s default once
					// while the machine was loaded: a slow machine is not a failure of ours.
					hookTimeout: 60_000,
				},
			},
			{
				// Figures over the whole database (metrics) move exactly only when nothing else
				// runs: this group starts after every other project has finished.
				plugins: [workerd()],
				test: {
					name: "worker-serial",
					include: ["test/worker-serial/**/*.test.ts"],
					testTimeout: 30_000,
					hookTimeout: 60_000,
					sequence: { groupOrder: 1 },
				},
			},
		],
	},
});
