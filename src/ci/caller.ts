/**
 * Who is asking for a runner slot: the Bearer credential of a CI route is an org API key, the
 * job's OIDC ID token (through a trust rule), or — for heartbeat and release only — the lease
 * token itself. Every refusal is the same 401 and is audited with its reason.
 */
import { recordAudit } from "../audit/log";
import type { Config } from "../config";
import { apiError } from "../errors";
import { decodeBase64Url, decodeUtf8 } from "../kernel/base64url";
import { CI_TOKEN_TYPE, verifyCiToken } from "../kernel/token/ci";
import { importPublicKeySet, type PublicKeySet } from "../kernel/token/keys";
import { authenticateApiKey, looksLikeApiKey } from "./api-keys";
import type { CiDeps } from "./deps";
import { verifyCiIdToken } from "./oidc";

export type CiCaller =
	| { via: "api_key"; orgId: string; grantedBy: string }
	| { via: "oidc"; orgId: string; grantedBy: string; subject: string | null }
	| { via: "lease"; orgId: string; leaseId: string };

const ourKeys = new WeakMap<Config, Promise<PublicKeySet>>();
function keysOf(config: Config): Promise<PublicKeySet> {
	let keys = ourKeys.get(config);
	if (!keys) {
		keys = importPublicKeySet(config.jwks);
		ourKeys.set(config, keys);
	}
	return keys;
}

function tokenType(token: string): unknown {
	try {
		const header = JSON.parse(decodeUtf8(decodeBase64Url(token.split(".")[0] ?? "")));
		return typeof header === "object" && header !== null ? header.typ : undefined;
	} catch {
		return undefined;
	}
}

export function bearerOf(header: string | undefined): string | null {
	const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,8192})$/.exec(header ?? "");
	return match?.[1] ?? null;
}

async function refuse(deps: CiDeps, via: string, reason: string): Promise<never> {
	await recordAudit(deps.db, deps.meta, {
		action: "ci_auth_failed",
		result: "denied",
		detail: { via, reason },
	});
	throw apiError(
		"UNAUTHORIZED",
		"A valid org API key, a trusted CI ID token or this lease's token is required.",
	);
}

/**
 * The caller behind `bearer`. `allowLease` admits our own lease token (heartbeat, release);
 * `orgId` picks the org when an ID token satisfies trust rules of several.
 */
export async function authenticateCi(
	deps: CiDeps,
	bearer: string | null,
	opts: { allowLease: boolean; orgId?: string | undefined },
): Promise<CiCaller> {
	if (bearer === null) return refuse(deps, "none", "missing_credential");
	if (looksLikeApiKey(bearer)) {
		const key = await authenticateApiKey(deps, bearer);
		if (!key.ok) return refuse(deps, "api_key", key.reason);
		return { via: "api_key", orgId: key.orgId, grantedBy: `api_key:${key.keyId}` };
	}
	if (tokenType(bearer) === CI_TOKEN_TYPE) {
		if (!opts.allowLease) return refuse(deps, "lease", "lease_token_cannot_lease");
		const result = await verifyCiToken(bearer, await keysOf(deps.config), {
			issuer: deps.config.issuer,
		});
		if (!result.ok) return refuse(deps, "lease", result.reason.toLowerCase());
		return { via: "lease", orgId: result.claims.ci.org, leaseId: result.claims.ci.lease };
	}
	const oidc = await verifyCiIdToken(deps, bearer);
	if (!oidc.ok) return refuse(deps, "oidc", oidc.reason);
	const orgs = [...new Set(oidc.rules.map((r) => r.orgId))].filter(
		(o) => opts.orgId === undefined || o === opts.orgId,
	);
	if (orgs.length === 0) return refuse(deps, "oidc", "no_matching_rule");
	if (orgs.length > 1) {
		throw apiError(
			"INVALID_REQUEST",
			"This ID token is trusted by several organisations; name one with org_id.",
			{ fields: ["org_id"] },
		);
	}
	const orgId = orgs[0] as string;
	const rule = oidc.rules.find((r) => r.orgId === orgId);
	const sub = oidc.claims.sub;
	return {
		via: "oidc",
		orgId,
		grantedBy: `oidc:${rule?.id ?? "unknown"}`,
		subject: typeof sub === "string" ? sub.slice(0, 256) : null,
	};
}
