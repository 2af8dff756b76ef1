import { defineCommand } from "citty";
import { deleteCredentials, loadCredentials } from "../account/credentials";
import { accessToken } from "../account/session";
import { apiRequest } from "../api";
import { homePaths } from "../home";
import { out, print, printJson, warn } from "../output";
import { configFrom, sharedArgs } from "./_shared";

export default defineCommand({
	meta: {
		name: "logout",
		description: "Revoke the session on the server and delete local credentials",
	},
	args: { ...sharedArgs },
	async run({ args }) {
		const config = configFrom(args);
		const paths = homePaths(config.home);
		const creds = loadCredentials(paths, config.apiUrl);
		if (creds === null) {
			deleteCredentials(paths);
			if (args.json) printJson({ logged_out: true, revoked: false, was_logged_in: false });
			else print("You were not logged in.");
			return;
		}
		let revoked = true;
		let problem = "";
		try {
			// An expired access token is refreshed first: logout needs a Bearer (docs/api.md §3.2).
			const current = await accessToken(paths, config.apiUrl);
			await apiRequest(config.apiUrl, "POST", "/api/v1/auth/logout", {
				json: { refresh_token: current.refresh_token },
				bearer: current.access_token,
			});
		} catch (err) {
			revoked = false;
			problem = err instanceof Error ? err.message : String(err);
		}
		// Local credentials go either way: the user asked to be signed out on this machine.
		deleteCredentials(paths);
		if (args.json) {
			printJson({ logged_out: true, revoked, was_logged_in: true });
			return;
		}
		print(`${out().green("✓")} Logged out ${creds.user.email} on this machine.`);
		if (!revoked) {
			warn(
				`The server could not revoke the session (${problem}). It stays valid there until it expires; run \`coditect login\` then \`coditect logout\` when online to revoke it.`,
			);
		}
	},
});
