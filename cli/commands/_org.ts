/** What `coditect org` and `coditect org webhooks` share: the signed-in caller, picking the org. */
import { asUser } from "../account/session";
import { CliError, EXIT_USAGE } from "../errors";
import { homePaths } from "../home";
import { configFrom, type SharedArgs } from "./_shared";

export interface OrgSummary {
	id: string;
	name: string;
	role: string;
}

export function session(args: SharedArgs) {
	const config = configFrom(args);
	const paths = homePaths(config.home);
	return <T>(method: "GET" | "POST" | "DELETE", path: string, json?: unknown) =>
		asUser<T>(paths, config.apiUrl, "organisations", method, path, json);
}

/** The org named by --org, else the caller's only one; with several, say which to pick. */
export async function pickOrg(
	call: ReturnType<typeof session>,
	wanted: string | undefined,
): Promise<string> {
	if (wanted) return wanted;
	const { orgs } = await call<{ orgs: OrgSummary[] }>("GET", "/api/v1/orgs");
	const [only, ...more] = orgs;
	if (!only) throw new CliError("You are in no organisation yet.", "NO_ORG", EXIT_USAGE);
	if (more.length > 0) {
		throw new CliError(
			`You are in ${orgs.length} organisations; pass --org with one of: ${orgs.map((o) => `${o.id} (${o.name})`).join(", ")}.`,
			"ORG_REQUIRED",
			EXIT_USAGE,
		);
	}
	return only.id;
}

export const orgArg = {
	org: { type: "string", description: "Organisation id (org_…)", valueHint: "ID" },
} as const;
