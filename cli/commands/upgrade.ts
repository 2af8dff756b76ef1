import { setTimeout as sleep } from "node:timers/promises";
import { defineCommand } from "citty";
import { openInBrowser } from "../account/oauth";
import { accessToken } from "../account/session";
import { ApiFailure, apiRequest, failureToCliError } from "../api";
import { CliError } from "../errors";
import { isObject } from "../home";
import { activateMachine } from "../license/activate";
import { licensedVerdict } from "../license/verdict";
import { out, print, printJson } from "../output";
import { withSpinner } from "../spinner";
import { contextFrom, sharedArgs } from "./_shared";

const POLL_INTERVAL_MS = 3000;

async function licenseIds(apiUrl: string, bearer: string): Promise<Set<string>> {
	const body = await apiRequest<unknown>(apiUrl, "GET", "/api/v1/licenses", { bearer });
	const list = Array.isArray(body)
		? body
		: isObject(body) && Array.isArray(body.licenses)
			? body.licenses
			: [];
	const ids = new Set<string>();
	for (const license of list) {
		if (isObject(license) && typeof license.id === "string" && license.status !== "revoked")
			ids.add(license.id);
	}
	return ids;
}

export default defineCommand({
	meta: {
		name: "upgrade",
		description: "Buy or change a plan in Stripe Checkout, then activate this machine with it",
	},
	args: {
		plan: {
			type: "positional",
			required: false,
			default: "professional",
			description: "Plan (starter, professional, …)",
		},
		interval: {
			type: "enum",
			options: ["month", "year"],
			default: "month",
			description: "Billing interval",
		},
		wait: {
			type: "string",
			default: "15",
			valueHint: "minutes",
			description: "How long to wait for the payment",
		},
		browser: {
			type: "boolean",
			default: true,
			negativeDescription: "Only print the checkout address",
		},
		...sharedArgs,
	},
	async run({ args }) {
		const ctx = contextFrom(args);
		const { apiUrl } = ctx.config;
		const waitMinutes = Number(args.wait);
		if (!Number.isFinite(waitMinutes) || waitMinutes <= 0) {
			throw new CliError("--wait takes a number of minutes, e.g. --wait 15.", "INVALID_ARGUMENT");
		}
		try {
			let creds = await accessToken(ctx.paths, apiUrl);
			const before = await licenseIds(apiUrl, creds.access_token);
			const checkout = await apiRequest<{ url: string; session_id: string }>(
				apiUrl,
				"POST",
				"/api/v1/billing/checkout",
				{ json: { plan: args.plan, interval: args.interval }, bearer: creds.access_token },
			);
			process.stderr.write(`Complete the purchase in the browser:\n\n  ${checkout.url}\n\n`);
			if (args.browser) await openInBrowser(checkout.url);
			process.stderr.write("Waiting for the payment to be confirmed…\n");
			await withSpinner("Waiting for the payment", async () => {
				const deadline = Date.now() + waitMinutes * 60_000;
				let found = false;
				while (!found) {
					if (Date.now() > deadline) {
						throw new CliError(
							"No new license appeared in time. If you paid, run `coditect activate` in a minute; otherwise run `coditect upgrade` again.",
							"UPGRADE_TIMEOUT",
						);
					}
					await sleep(POLL_INTERVAL_MS);
					creds = await accessToken(ctx.paths, apiUrl);
					const now = await licenseIds(apiUrl, creds.access_token);
					found = [...now].some((id) => !before.has(id));
				}
			});
			const activated = await activateMachine(ctx, { bearer: creds.access_token });
			const activation = activated.response;
			const { check } = licensedVerdict(activated.claims, activated.stored, Date.now());
			if (args.json) printJson({ upgraded: true, session_id: checkout.session_id, ...check });
			else
				print(
					`${out().green("✓")} Upgraded to ${out().bold(activation.license.plan)}; this machine is activated.`,
				);
		} catch (err) {
			if (err instanceof ApiFailure && err.code === "BILLING_NOT_CONFIGURED") {
				throw new CliError(
					"This license server does not sell plans (billing is not configured).",
					err.code,
				);
			}
			if (err instanceof ApiFailure) throw failureToCliError(err, apiUrl, "upgrades");
			throw err;
		}
	},
});
