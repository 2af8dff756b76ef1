/**
 * `coditect org webhooks`: an org's signed outbound webhook endpoints (owners and admins):
 * list, add (the secret is printed once), remove (disables), rotate, deliveries. The server
 * checks URLs and event names; an endpoint id is looked up in the org's list first, so a
 * wrong one says so instead of the generic "server does not offer this" of a bare 404.
 */
import { defineCommand } from "citty";
import { CliError, EXIT_USAGE } from "../errors";
import { print, printJson, rows, warn } from "../output";
import { orgArg, pickOrg, session } from "./_org";
import { type SharedArgs, sharedArgs } from "./_shared";

interface Endpoint {
	id: string;
	url: string;
	events: string[];
	created_at: string;
	disabled_at: string | null;
	previous_secret_expires_at: string | null;
}
interface Delivery {
	event_id: string;
	event_type: string;
	attempts: number;
	last_status: number | null;
	last_error: string | null;
	created_at: string;
	delivered_at: string | null;
	dead_at: string | null;
}

const idArg = {
	id: { type: "positional", required: true, description: "Endpoint id (whe_…)" },
} as const;

function on(args: SharedArgs & { org?: string }) {
	const call = session(args);
	return {
		call,
		async base(): Promise<string> {
			return `/api/v1/orgs/${await pickOrg(call, args.org)}/webhooks`;
		},
	};
}

/** The org's endpoint `id`, or a usage error naming it. */
async function endpointOf(
	call: ReturnType<typeof session>,
	base: string,
	id: string,
): Promise<Endpoint> {
	const { endpoints } = await call<{ endpoints: Endpoint[] }>("GET", base);
	const found = endpoints.find((e) => e.id === id);
	if (!found) {
		throw new CliError(
			`This organisation has no webhook endpoint ${id}; \`coditect org webhooks list\` shows them.`,
			"NO_SUCH_WEBHOOK",
			EXIT_USAGE,
		);
	}
	return found;
}

const state = (e: Endpoint): string =>
	e.disabled_at
		? `disabled ${e.disabled_at}`
		: e.previous_secret_expires_at
			? `live (old secret signs until ${e.previous_secret_expires_at})`
			: "live";

function printSecret(secret: string): void {
	print(`Signing secret: ${secret}`);
	warn("The secret is shown this once. Store it where your receiver can read it.");
}

const list = defineCommand({
	meta: { name: "list", description: "The organisation's webhook endpoints" },
	args: { ...sharedArgs, ...orgArg },
	async run({ args }) {
		const { call, base } = on(args);
		const { endpoints } = await call<{ endpoints: Endpoint[] }>("GET", await base());
		if (args.json) return printJson({ endpoints });
		if (endpoints.length === 0) return print("No webhook endpoints yet.");
		for (const e of endpoints) {
			print(`${e.id}  ${e.url}`);
			print(
				rows([
					["events", e.events.join(", ")],
					["state", state(e)],
				]),
			);
		}
	},
});

const add = defineCommand({
	meta: {
		name: "add",
		description: "Register URL for --events (comma-separated); prints the secret once",
	},
	args: {
		...sharedArgs,
		...orgArg,
		url: { type: "positional", required: true, description: "https URL on a public address" },
		events: {
			type: "string",
			required: true,
			description: "Event types, e.g. license.created,seat.assigned",
			valueHint: "LIST",
		},
	},
	async run({ args }) {
		const events = String(args.events)
			.split(",")
			.map((e) => e.trim())
			.filter(Boolean);
		if (events.length === 0) {
			throw new CliError("--events names at least one event type.", "INVALID_EVENTS", EXIT_USAGE);
		}
		const { call, base } = on(args);
		const made = await call<{ endpoint: Endpoint; secret: string }>("POST", await base(), {
			url: args.url,
			events,
		});
		if (args.json) return printJson(made);
		print(`Registered ${made.endpoint.id} for ${made.endpoint.events.join(", ")}.`);
		printSecret(made.secret);
	},
});

const remove = defineCommand({
	meta: { name: "remove", description: "Disable endpoint ID: no new events; its history stays" },
	args: { ...sharedArgs, ...orgArg, ...idArg },
	async run({ args }) {
		const { call, base } = on(args);
		const path = await base();
		await endpointOf(call, path, args.id);
		await call<null>("DELETE", `${path}/${args.id}`);
		if (args.json) return printJson({ disabled: args.id });
		print(`Disabled ${args.id}; it gets no new events.`);
	},
});

const rotate = defineCommand({
	meta: {
		name: "rotate",
		description: "New secret for endpoint ID (printed once); the old one signs for 24 h more",
	},
	args: { ...sharedArgs, ...orgArg, ...idArg },
	async run({ args }) {
		const { call, base } = on(args);
		const path = await base();
		await endpointOf(call, path, args.id);
		const rotated = await call<{ endpoint: Endpoint; secret: string }>(
			"POST",
			`${path}/${args.id}/rotate-secret`,
			{},
		);
		if (args.json) return printJson(rotated);
		print(
			`Rotated ${args.id}; the previous secret keeps signing until ${rotated.endpoint.previous_secret_expires_at}.`,
		);
		printSecret(rotated.secret);
	},
});

const deliveries = defineCommand({
	meta: { name: "deliveries", description: "Recent deliveries to endpoint ID, newest first" },
	args: {
		...sharedArgs,
		...orgArg,
		...idArg,
		limit: { type: "string", description: "How many, 1–100 (default 20)", valueHint: "N" },
	},
	async run({ args }) {
		const limit = args.limit === undefined ? 20 : Number(args.limit);
		if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
			throw new CliError("--limit is a whole number from 1 to 100.", "INVALID_LIMIT", EXIT_USAGE);
		}
		const { call, base } = on(args);
		const path = await base();
		await endpointOf(call, path, args.id);
		const list = await call<{ deliveries: Delivery[] }>(
			"GET",
			`${path}/${args.id}/deliveries?limit=${limit}`,
		);
		if (args.json) return printJson(list);
		if (list.deliveries.length === 0) return print("No deliveries yet.");
		for (const d of list.deliveries) {
			const outcome = d.delivered_at
				? `delivered ${d.delivered_at}`
				: d.dead_at
					? `gave up ${d.dead_at}`
					: d.attempts === 0
						? "queued"
						: `retrying (${d.last_error ?? d.last_status})`;
			print(`${d.created_at}  ${d.event_type}  ${d.event_id}`);
			print(
				rows([
					["attempts", String(d.attempts)],
					["outcome", outcome],
				]),
			);
		}
	},
});

export default defineCommand({
	meta: { name: "webhooks", description: "The organisation's signed webhook endpoints" },
	default: "list",
	subCommands: { list, add, remove, rotate, deliveries },
});
