/**
 * Which org's provider an address belongs to: only a domain the org holds verified routes
 * logins (an unverified claim routes nothing). Read by SSO login and by the password door,
 * which refuses the domains whose org turned password login off. The answer depends on the
 * domain alone, never on whether an account exists.
 */
import { and, eq, isNotNull } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { orgSsoConnections, orgSsoDomains, orgs } from "../db/schema";
import { ApiError } from "../errors";
import { domainOfEmail } from "./domains";

export interface SsoRoute {
	orgId: string;
	orgName: string;
	issuer: string;
	clientId: string;
	clientSecretEnc: string;
	passwordLoginDisabled: boolean;
}

const routeColumns = {
	orgId: orgs.id,
	orgName: orgs.name,
	issuer: orgSsoConnections.issuer,
	clientId: orgSsoConnections.clientId,
	clientSecretEnc: orgSsoConnections.clientSecretEnc,
	passwordLoginDisabled: orgSsoConnections.passwordLoginDisabled,
};

/** The org holding `domain` verified, with its provider; undefined when none does. */
export async function ssoRouteForDomain(
	db: Queryable,
	domain: string,
): Promise<SsoRoute | undefined> {
	const [row] = await db
		.select(routeColumns)
		.from(orgSsoDomains)
		.innerJoin(orgSsoConnections, eq(orgSsoConnections.orgId, orgSsoDomains.orgId))
		.innerJoin(orgs, eq(orgs.id, orgSsoDomains.orgId))
		.where(and(eq(orgSsoDomains.domain, domain), isNotNull(orgSsoDomains.verifiedAt)));
	return row;
}

/** The org's provider, when it has one and at least one verified domain to sign in. */
export async function ssoRouteForOrg(db: Queryable, orgId: string): Promise<SsoRoute | undefined> {
	const [row] = await db
		.select(routeColumns)
		.from(orgSsoConnections)
		.innerJoin(orgs, eq(orgs.id, orgSsoConnections.orgId))
		.innerJoin(
			orgSsoDomains,
			and(eq(orgSsoDomains.orgId, orgSsoConnections.orgId), isNotNull(orgSsoDomains.verifiedAt)),
		)
		.where(eq(orgSsoConnections.orgId, orgId))
		.limit(1);
	return row;
}

/** Whether `domain` is one of the org's verified domains (checked again at the callback). */
export async function isVerifiedDomainOf(
	db: Queryable,
	orgId: string,
	domain: string,
): Promise<boolean> {
	const [row] = await db
		.select({ domain: orgSsoDomains.domain })
		.from(orgSsoDomains)
		.where(
			and(
				eq(orgSsoDomains.orgId, orgId),
				eq(orgSsoDomains.domain, domain),
				isNotNull(orgSsoDomains.verifiedAt),
			),
		);
	return row !== undefined;
}

/**
 * 403 SSO_REQUIRED when the address's domain is verified by an org that turned password
 * login off; the password doors (signup, verify, login) call it before touching the account,
 * so the answer says nothing about whether one exists.
 */
export async function refusePasswordIfSsoOnly(db: Queryable, email: string): Promise<void> {
	const domain = domainOfEmail(email);
	if (!domain) return;
	const route = await ssoRouteForDomain(db, domain);
	if (!route?.passwordLoginDisabled) return;
	throw new ApiError(
		"SSO_REQUIRED",
		`${route.orgName} signs in ${domain} addresses through its single sign-on only. Run \`coditect login --sso ${email}\`.`,
		{ extra: { domain } },
	);
}
