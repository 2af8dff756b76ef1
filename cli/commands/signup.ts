import { defineCommand } from "citty";
import { saveSession } from "../account/credentials";
import { expectSession, readEmail, readPassword, reportLogin } from "../account/login";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError } from "../errors";
import { homePaths } from "../home";
import { ask, askHidden } from "../prompt";
import { configFrom, sharedArgs } from "./_shared";

export default defineCommand({
	meta: {
		name: "signup",
		description: "Create an account: email, password, then the emailed code",
	},
	args: {
		invite: { type: "string", description: "Invite code (required while signup is invite-only)" },
		email: { type: "string", description: "Email (otherwise prompted)" },
		"password-stdin": {
			type: "boolean",
			description: "Read the password, then the code, from standard input",
		},
		...sharedArgs,
	},
	async run({ args }) {
		const config = configFrom(args);
		const email = await readEmail(args.email);
		let password: string;
		if (args["password-stdin"]) {
			password = await askHidden("", "password");
		} else {
			password = await readPassword();
			if ((await readPassword("Repeat password: ")) !== password) {
				throw new CliError(
					"The passwords do not match. Run `coditect signup` again.",
					"PASSWORD_MISMATCH",
				);
			}
		}
		try {
			await apiRequest(config.apiUrl, "POST", "/api/v1/auth/signup", {
				json: { email, password, ...(args.invite ? { invite_code: args.invite } : {}) },
			});
			process.stderr.write(`We sent a 6-digit code to ${email} (it is valid for 15 minutes).\n`);
			const code = await ask("Code: ", "code from the email");
			const session = expectSession(
				await apiRequest<unknown>(config.apiUrl, "POST", "/api/v1/auth/verify", {
					json: { email, code },
				}),
			);
			reportLogin(saveSession(homePaths(config.home), config.apiUrl, session), args.json);
		} catch (err) {
			if (err instanceof ApiFailure && err.code === "INVALID_CODE") {
				throw new CliError(
					"That code is wrong or has expired. Run `coditect signup` again to get a new one.",
					err.code,
				);
			}
			if (err instanceof ApiFailure && err.code === "INVITE_REQUIRED") {
				throw new CliError(
					`${err.message} Ask for one and run \`coditect signup --invite CODE\`.`,
					err.code,
				);
			}
			if (err instanceof ApiFailure && err.code === "INVALID_REQUEST") {
				throw new CliError(`The server refused the signup: ${err.message}`, err.code);
			}
			if (err instanceof ApiFailure) throw failureToCliError(err, config.apiUrl, "signup");
			throw err;
		}
	},
});
