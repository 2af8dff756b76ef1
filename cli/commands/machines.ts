/** `coditect machines`: my activations across licenses, and freeing one remotely. */
import { defineCommand } from "citty";
import type { ActivationView } from "../../src/licenses/views";
import { asUser } from "../account/session";
import { CliError, EXIT_USAGE } from "../errors";
import { homePaths } from "../home";
import { print, printJson, rows } from "../output";
import { configFrom, type SharedArgs, sharedArgs } from "./_shared";

/** The server's own activation shape (a type only: nothing of the server is bundled). */
type Machine = ActivationView;
interface Held extends Machine {
	license_id: string;
	plan: string;
}

/** Machines on the caller's own licenses and, on org licenses, under the caller's seats. */
async function myMachines(
	args: SharedArgs,
): Promise<{ held: Held[]; call: ReturnType<typeof caller> }> {
	const call = caller(args);
	const { licenses } = await call<{
		licenses: Array<{ id: string; plan: string; activations: Machine[] }>;
	}>("GET", "/api/v1/licenses");
	const held = licenses.flatMap((l) =>
		l.activations.map((a) => ({ ...a, license_id: l.id, plan: l.plan })),
	);
	const { orgs } = await call<{ orgs: Array<{ id: string }> }>("GET", "/api/v1/orgs");
	const me = await call<{ user: { id: string } }>("GET", "/api/v1/me");
	for (const o of orgs) {
		const board = await call<{
			license: { id: string; plan: string } | null;
			members: Array<{ user_id: string; machines: Machine[] }>;
		}>("GET", `/api/v1/orgs/${o.id}`);
		const mine = board.members.find((m) => m.user_id === me.user.id);
		if (!board.license || !mine) continue;
		const { id, plan } = board.license;
		for (const a of mine.machines)
			if (!held.some((h) => h.id === a.id)) held.push({ ...a, license_id: id, plan });
	}
	return { held, call };
}

function caller(args: SharedArgs) {
	const config = configFrom(args);
	const paths = homePaths(config.home);
	return <T>(method: "GET" | "POST" | "DELETE", path: string) =>
		asUser<T>(paths, config.apiUrl, "machines", method, path);
}

const list = defineCommand({
	meta: { name: "list", description: "Machines holding a seat on my licenses" },
	args: { ...sharedArgs },
	async run({ args }) {
		const { held } = await myMachines(args);
		if (args.json) {
			printJson({ machines: held });
			return;
		}
		if (held.length === 0) print("No machine holds a seat on your licenses.");
		for (const m of held) {
			print(
				rows([
					[
						"machine",
						`${m.id}  ${m.hostname ?? "(no hostname)"} ${m.platform ?? ""}${m.offline ? " (air-gapped)" : ""}`.trim(),
					],
					["license", `${m.license_id} (${m.plan})`],
					["last check", m.last_validated_at ?? "never"],
				]),
			);
		}
	},
});

const free = defineCommand({
	meta: { name: "free", description: "Free machine ID remotely (a lost or retired laptop)" },
	args: { ...sharedArgs, id: { type: "positional", required: true, description: "act_… id" } },
	async run({ args }) {
		const { held, call } = await myMachines(args);
		const machine = held.find((m) => m.id === args.id);
		if (!machine) {
			throw new CliError(
				`No machine of yours has the id ${args.id}; \`coditect machines\` lists them.`,
				"ACTIVATION_NOT_FOUND",
				EXIT_USAGE,
			);
		}
		await call("DELETE", `/api/v1/licenses/${machine.license_id}/activations/${machine.id}`);
		if (args.json) printJson({ freed: machine.id });
		else print(`Freed ${machine.id}${machine.hostname ? ` (${machine.hostname})` : ""}.`);
	},
});

export default defineCommand({
	meta: { name: "machines", description: "My machines across licenses; free one remotely" },
	default: "list",
	subCommands: { list, free },
});
