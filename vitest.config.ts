import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		// On Node, outside any project's resolve conditions (workerd's would pick postgres' cf build).
		globalSetup: ["test/support/global-setup.ts"],
		projects: [
			{
				test: {
					name: "unit",
					include: ["test/unit/**/*.test.ts"],
					environment: "node",
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
				// The Worker inside workerd, Hyperdrive pointed at the run's real database.
				plugins: [
					cloudflareTest(({ inject }) => ({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: {
							bindings: {
								PUBLIC_URL: "http://license.test",
								LICENSE_SIGNING_KEY: inject("signingKey"),
								LICENSE_KEY_PEPPER: inject("pepper"),
								JWT_SECRET: inject("jwtSecret"),
								ADMIN_TOKEN: inject("adminToken"),
							},
							hyperdrives: {
								HYPERDRIVE: inject("databaseUrl"),
								HYPERDRIVE_FRESH: inject("databaseUrl"),
							},
						},
					})),
				],
				test: {
					name: "worker",
					include: ["test/worker/**/*.test.ts"],
					testTimeout: 30_000,
				},
			},
		],
	},
});
