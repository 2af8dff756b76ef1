/** `coditect org`: my organisations and their seats; invite, remove, join; webhooks. */
import { defineCommand } from "citty";
import { CliError, EXIT_USAGE } from "../errors";
import { print, printJson, rows } from "../output";
import { type OrgSummary, orgArg, pickOrg, session } from "./_org";
import { sharedArgs } from "./_shared";
import webhooks from "./org-webhooks";

interface Dashboard {
	id: string;
	name: string;
	seats: { total: number; used: number; over_by: number };
	members: Array<{
		user_id: string;
		email: string;
		role: string;
		seat_id: string;
		machines: unknown[];
	}>;
	ci: { limit: number; active: number };
}

const list = defineCommand({
	meta: { name: "list", description: "My organisations, their seats and members" },
	args: { ...sharedArgs },
	async run({ args }) {
		const call = session(args);
		const { orgs } = await call<{ orgs: OrgSummary[] }>("GET", "/api/v1/orgs");
		const boards = await Promise.all(
			orgs.map((o) => call<Dashboard>("GET", `/api/v1/orgs/${o.id}`)),
		);
		if (args.json) {
			printJson({ orgs: boards });
			return;
		}
		if (boards.length === 0) print("You are in no organisation yet.");
		for (const b of boards) {
			const over = b.seats.over_by > 0 ? ` (over by ${b.seats.over_by})` : "";
			print(`${b.name}  ${b.id}`);
			print(
				rows([
					["seats", `${b.seats.used} of ${b.seats.total} used${over}`],
					["CI runners", `${b.ci.active} of ${b.ci.limit} in use`],
					...b.members.map((m) => [m.role, `${m.email}  ${m.machines.length} machine(s)`] as const),
				]),
			);
		}
	},
});

const invite = defineCommand({
	meta: { name: "invite", description: "Invite EMAIL to a seat (a code goes to that address)" },
	args: {
		...sharedArgs,
		...orgArg,
		email: { type: "positional", required: true, description: "Address to invite" },
		role: { type: "string", description: "member (default) or admin", valueHint: "ROLE" },
	},
	async run({ args }) {
		const role = args.role ?? "member";
		if (role !== "member" && role !== "admin") {
			throw new CliError("--role is member or admin.", "INVALID_ROLE", EXIT_USAGE);
		}
		const call = session(args);
		const orgId = await pickOrg(call, args.org);
		const sent = await call<{ email: string; expires_at: string }>(
			"POST",
			`/api/v1/orgs/${orgId}/invitations`,
			{ email: args.email, role },
		);
		if (args.json) printJson(sent);
		else
			print(`Invitation mailed to ${sent.email}; the code works once, until ${sent.expires_at}.`);
	},
});

const remove = defineCommand({
	meta: { name: "remove", description: "Remove EMAIL: frees the seat and that member's machines" },
	args: {
		...sharedArgs,
		...orgArg,
		email: { type: "positional", required: true, description: "Member's address" },
	},
	async run({ args }) {
		const call = session(args);
		const orgId = await pickOrg(call, args.org);
		const board = await call<Dashboard>("GET", `/api/v1/orgs/${orgId}`);
		const member = board.members.find((m) => m.email === args.email.trim().toLowerCase());
		if (!member) {
			throw new CliError(
				`${args.email} is not a member of ${board.name}.`,
				"NOT_A_MEMBER",
				EXIT_USAGE,
			);
		}
		const done = await call<{ machines_freed: number }>(
			"DELETE",
			`/api/v1/orgs/${orgId}/members/${member.user_id}`,
		);
		if (args.json) printJson({ removed: args.email, ...done });
		else
			print(`Removed ${args.email} from ${board.name}; ${done.machines_freed} machine(s) freed.`);
	},
});

const join = defineCommand({
	meta: { name: "join", description: "Accept an invitation: take a seat with the emailed CODE" },
	args: { ...sharedArgs, code: { type: "positional", required: true, description: "ORG-… code" } },
	async run({ args }) {
		const call = session(args);
		const joined = await call<{ org: OrgSummary; seat_id: string }>(
			"POST",
			"/api/v1/invitations/accept",
			{ code: args.code },
		);
		if (args.json) printJson(joined);
		else
			print(
				`You hold a seat in ${joined.org.name} as ${joined.org.role}. Run \`coditect activate\`.`,
			);
	},
});

export default defineCommand({
	meta: { name: "org", description: "Organisations: seats, members, invitations, webhooks" },
	default: "list",
	subCommands: { list, invite, remove, join, webhooks },
});
