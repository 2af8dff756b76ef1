import { defineCommand } from "citty";
import { saveSession } from "../account/credentials";
import { expectSession, readEmail, readPassword, reportLogin } from "../account/login";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError } from "../errors";
import { homePaths } from "../home";
import { printErr } from "../output";
import { ask, interactive } from "../prompt";
import { configFrom, sharedArgs } from "./_shared";

/** The server burns a signup code after this many wrong tries (VERIFICATION_MAX_ATTEMPTS). */
const CODE_TRIES = 5;

function codeProblem(code: string): string | undefined {
	return /^[0-9]{6}$/.test(code) ? undefined : "The code is the 6 digits from the email";
}

/** In a terminal a mismatched repeat asks for both again; piped, it is an error. */
async function choosePassword(): Promise<string> {
	for (;;) {
		const password = await readPassword();
		if ((await readPassword("Repeat password: ")) === password) return password;
		if (!interactive()) {
			throw new CliError(
				"The passwords do not match. Run `coditect signup` again.",
				"PASSWORD_MISMATCH",
			);
		}
		printErr("The passwords do not match; choose one again.");
	}
}

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
		const password = args["password-stdin"] ? await readPassword("") : await choosePassword();
		try {
			await apiRequest(config.apiUrl, "POST", "/api/v1/auth/signup", {
				json: { email, password, ...(args.invite ? { invite_code: args.invite } : {}) },
				wait: "Creating the account",
			});
			printErr(`We sent a 6-digit code to ${email} (it is valid for 15 minutes).`);
			// A malformed code is re-asked locally (it would cost one of the code's tries); a
			// wrong one is re-asked in a terminal while the server still takes tries.
			for (let tries = 1; ; tries++) {
				const code = await ask("Code: ", "code from the email", {
					validate: codeProblem,
					code: "INVALID_CODE",
				});
				try {
					const session = expectSession(
						await apiRequest<unknown>(config.apiUrl, "POST", "/api/v1/auth/verify", {
							json: { email, code },
							wait: "Checking the code",
						}),
					);
					reportLogin(saveSession(homePaths(config.home), config.apiUrl, session), args.json);
					return;
				} catch (err) {
					const left = CODE_TRIES - tries;
					if (
						!(err instanceof ApiFailure && err.code === "INVALID_CODE" && interactive() && left > 0)
					)
						throw err;
					printErr(
						`That code is wrong or has expired; ${left} ${left === 1 ? "try" : "tries"} left. Check the latest email.`,
					);
				}
			}
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
