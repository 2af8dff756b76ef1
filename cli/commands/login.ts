import { defineCommand } from "citty";
import { saveSession } from "../account/credentials";
import {
	browserLogin,
	expectSession,
	readEmail,
	readPassword,
	reportLogin,
	ssoBrowserLogin,
} from "../account/login";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError } from "../errors";
import { homePaths } from "../home";
import { printErr } from "../output";
import { interactive } from "../prompt";
import { configFrom, sharedArgs } from "./_shared";

/** Password tries one run offers; the account locks at 5 wrong ones. */
const LOGIN_TRIES = 3;

export default defineCommand({
	meta: {
		name: "login",
		description:
			"Log in with email and password, or in the browser with --provider or your organisation's --sso",
	},
	args: {
		provider: {
			type: "enum",
			options: ["google", "github"],
			description: "Log in through this provider in the browser (OAuth with PKCE)",
		},
		sso: {
			type: "string",
			description:
				"Log in through your organisation's single sign-on in the browser (OpenID Connect with PKCE): your work address, or the organisation's id",
			valueHint: "EMAIL|ORG_ID",
		},
		invite: {
			type: "string",
			description: "Invite code, when --provider creates a new account on an invite-only server",
			valueHint: "CODE",
		},
		email: { type: "string", description: "Email (otherwise prompted)" },
		"password-stdin": { type: "boolean", description: "Read the password from standard input" },
		browser: {
			type: "boolean",
			default: true,
			negativeDescription: "Only print the login address; do not open a browser",
		},
		...sharedArgs,
	},
	async run({ args }) {
		const config = configFrom(args);
		const paths = homePaths(config.home);
		if (args.sso !== undefined) {
			if (args.provider) {
				throw new CliError("Give --sso or --provider, not both.", "USAGE");
			}
			const session = await ssoBrowserLogin(config.apiUrl, args.sso, {
				openBrowser: args.browser,
			});
			reportLogin(saveSession(paths, config.apiUrl, session), args.json, session);
			return;
		}
		if (args.provider) {
			const session = await browserLogin(config.apiUrl, args.provider, {
				openBrowser: args.browser,
				invite: args.invite,
			});
			reportLogin(saveSession(paths, config.apiUrl, session), args.json);
			return;
		}
		const email = await readEmail(args.email);
		// Each wrong password counts toward the lockout (5 lock the account for 15 minutes), so
		// a terminal user may retype it a few times, but the CLI never retries by itself.
		for (let tries = 1; ; tries++) {
			const password = await readPassword(args["password-stdin"] ? "" : "Password: ");
			try {
				const session = expectSession(
					await apiRequest<unknown>(config.apiUrl, "POST", "/api/v1/auth/login", {
						json: { email, password },
						wait: "Logging in",
					}),
				);
				reportLogin(saveSession(paths, config.apiUrl, session), args.json);
				return;
			} catch (err) {
				if (err instanceof ApiFailure && err.code === "SSO_REQUIRED") {
					// The server's sentence names the org and the exact command to run.
					throw new CliError(err.message, err.code);
				}
				if (err instanceof ApiFailure && err.code === "INVALID_CREDENTIALS") {
					if (interactive() && !args["password-stdin"] && tries < LOGIN_TRIES) {
						printErr("Wrong email or password (or the account is locked); try again.");
						continue;
					}
					throw new CliError(
						"Wrong email or password (or the account is locked or not verified yet). Try again, reset the password, or run `coditect signup`.",
						err.code,
					);
				}
				if (err instanceof ApiFailure)
					throw failureToCliError(err, config.apiUrl, "password login");
				throw err;
			}
		}
	},
});
