import { defineCommand } from "citty";
import {
	loadCredentials,
	SESSION_OFFLINE_GRACE_S,
	SESSION_WARNING_S,
	type StoredCredentials,
} from "../account/credentials";
import { accessToken, notLoggedIn, sessionRejected } from "../account/session";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError, EXIT_NETWORK } from "../errors";
import { homePaths, isObject, writeJsonFile } from "../home";
import { formatDuration, out, print, printJson, rows, warn } from "../output";
import { configFrom, sharedArgs } from "./_shared";

export default defineCommand({
	meta: { name: "whoami", description: "Show the logged-in user and when the session ends" },
	args: { ...sharedArgs },
	async run({ args }) {
		const config = configFrom(args);
		const paths = homePaths(config.home);
		const stored = loadCredentials(paths, config.apiUrl);
		if (stored === null) throw notLoggedIn();
		const now = Math.floor(Date.now() / 1000);
		let creds: StoredCredentials = stored;
		let offline = false;
		let licenses: unknown[] = [];
		try {
			creds = await accessToken(paths, config.apiUrl);
			const me = await apiRequest<unknown>(config.apiUrl, "GET", "/api/v1/me", {
				bearer: creds.access_token,
			});
			if (isObject(me) && Array.isArray(me.licenses)) licenses = me.licenses;
			creds = { ...creds, last_online_at: now };
			writeJsonFile(paths.credentials, creds);
		} catch (err) {
			if (err instanceof ApiFailure && err.status === 401) throw sessionRejected(paths);
			if (err instanceof ApiFailure) throw failureToCliError(err, config.apiUrl, "accounts");
			if (!(err instanceof CliError) || err.exitCode !== EXIT_NETWORK) throw err;
			// The 7-day offline grace for the session (docs/api.md §5).
			if (now - stored.last_online_at > SESSION_OFFLINE_GRACE_S) {
				throw new CliError(
					`${err.message} The session has not been confirmed online for more than 7 days; connect and run \`coditect whoami\` again.`,
					"OFFLINE_GRACE_EXPIRED",
					EXIT_NETWORK,
				);
			}
			offline = true;
		}
		const left = creds.refresh_expires_at - now;
		const info = {
			user: creds.user,
			session_expires_at: new Date(creds.refresh_expires_at * 1000).toISOString(),
			session_expires_in_s: Math.max(0, left),
			expiring_soon: left < SESSION_WARNING_S,
			offline,
			licenses: licenses.length,
		};
		if (args.json) {
			printJson(info);
			return;
		}
		print(
			`${out().bold(creds.user.email)}${offline ? out().dim("  (offline: last confirmed earlier)") : ""}`,
		);
		print(
			rows([
				["user id", creds.user.id],
				["session ends", `${info.session_expires_at} (in ${formatDuration(left)})`],
				["licenses", offline ? "unknown offline" : String(licenses.length)],
			]),
		);
		if (info.expiring_soon) {
			warn(
				`Your session ends in ${formatDuration(left)}. Run \`coditect login\` to start a new one.`,
			);
		}
	},
});
