/**
 * An org admin's SSO settings: the provider (issuer, client id, sealed secret), whether
 * password login is off for the org's domains, and the domains with their TXT proof. Owners
 * and admins only; SMB and Enterprise only (the plan's `sso` feature), else 403. Every write
 * is audited; the client secret is never returned or logged.
 */
import { and, asc, eq, isNotNull, ne } from "drizzle-orm";
import type { RequestMeta } from "../audit/log";
import { recordAudit } from "../audit/log";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { orgSsoConnections, orgSsoDomains } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { isAcceptableIssuer } from "../issuer-url";
import { evaluateLicense } from "../kernel/rules";
import { orgLicenseOf } from "../licenses/queries";
import { MANAGERS, requireMember } from "../orgs/membership";
import {
	checkVerificationRecord,
	newVerificationToken,
	normalizeDomain,
	verificationRecord,
} from "./domains";
import { discover } from "./oidc";
import type { TxtResolver } from "./resolver";
import { sealSecret } from "./secret-box";

export interface SsoDeps {
	db: Database;
	config: Config;
	meta: RequestMeta;
	resolver: TxtResolver;
	now(): Date;
}

export interface SsoDomainView {
	domain: string;
	verified: boolean;
	verified_at: string | null;
	/** The TXT record that proves the org controls the domain. */
	verification: { type: "TXT"; name: string; value: string };
}

export interface SsoSettingsView {
	connection: {
		issuer: string;
		client_id: string;
		/** Always true once configured: the secret itself is never shown again. */
		client_secret_set: true;
		password_login_disabled: boolean;
		updated_at: string;
	} | null;
	domains: SsoDomainView[];
}

export interface SsoConnectionInput {
	issuer: string;
	client_id: string;
	client_secret?: string | undefined;
	password_login_disabled?: boolean | undefined;
}

/** The caller manages the org, and the org's license includes SSO. */
async function requireSsoAdmin(deps: SsoDeps, orgId: string, userId: string): Promise<void> {
	await requireMember(deps.db, orgId, userId, MANAGERS);
	const now = deps.now();
	const license = await orgLicenseOf(deps.db, orgId, now);
	if (
		!license ||
		!evaluateLicense(license, now).usable ||
		!license.entitlements.features.includes("sso")
	) {
		throw apiError(
			"FORBIDDEN",
			"Single sign-on comes with the SMB and Enterprise plans; this organisation has neither (active).",
		);
	}
}

function domainView(row: typeof orgSsoDomains.$inferSelect): SsoDomainView {
	const record = verificationRecord(row.domain, row.verificationToken);
	return {
		domain: row.domain,
		verified: row.verifiedAt !== null,
		verified_at: row.verifiedAt?.toISOString() ?? null,
		verification: { type: "TXT", ...record },
	};
}

async function settingsOf(deps: SsoDeps, orgId: string): Promise<SsoSettingsView> {
	const [conn] = await deps.db
		.select()
		.from(orgSsoConnections)
		.where(eq(orgSsoConnections.orgId, orgId));
	const domains = await deps.db
		.select()
		.from(orgSsoDomains)
		.where(eq(orgSsoDomains.orgId, orgId))
		.orderBy(asc(orgSsoDomains.createdAt), asc(orgSsoDomains.domain));
	return {
		connection: conn
			? {
					issuer: conn.issuer,
					client_id: conn.clientId,
					client_secret_set: true,
					password_login_disabled: conn.passwordLoginDisabled,
					updated_at: conn.updatedAt.toISOString(),
				}
			: null,
		domains: domains.map(domainView),
	};
}

export function ssoAdmin(deps: SsoDeps) {
	return {
		async get(userId: string, orgId: string): Promise<SsoSettingsView> {
			await requireSsoAdmin(deps, orgId, userId);
			return settingsOf(deps, orgId);
		},

		/** Creates or replaces the provider; the secret may be left out to keep the stored one. */
		async configure(
			userId: string,
			orgId: string,
			input: SsoConnectionInput,
		): Promise<SsoSettingsView> {
			await requireSsoAdmin(deps, orgId, userId);
			if (!isAcceptableIssuer(input.issuer)) {
				throw new ApiError(
					"INVALID_REQUEST",
					"issuer must be an https URL (http only for 127.0.0.1/localhost) without query or fragment.",
					{ extra: { fields: ["issuer"] } },
				);
			}
			// Checked now, so a typo is the admin's 400 rather than every member's failed login.
			try {
				await discover(input.issuer);
			} catch {
				throw new ApiError(
					"INVALID_REQUEST",
					"The issuer's OpenID discovery document (/.well-known/openid-configuration) could not be read.",
					{ extra: { fields: ["issuer"] } },
				);
			}
			const [existing] = await deps.db
				.select({ orgId: orgSsoConnections.orgId })
				.from(orgSsoConnections)
				.where(eq(orgSsoConnections.orgId, orgId));
			if (!existing && !input.client_secret) {
				throw new ApiError("INVALID_REQUEST", "client_secret is required the first time.", {
					extra: { fields: ["client_secret"] },
				});
			}
			const sealed = input.client_secret
				? await sealSecret(deps.config.settings.LICENSE_KEY_PEPPER, orgId, input.client_secret)
				: null;
			await deps.db.transaction(async (tx) => {
				const values = {
					issuer: input.issuer,
					clientId: input.client_id,
					...(sealed ? { clientSecretEnc: sealed } : {}),
					...(input.password_login_disabled === undefined
						? {}
						: { passwordLoginDisabled: input.password_login_disabled }),
					updatedAt: deps.now(),
				};
				if (existing) {
					await tx.update(orgSsoConnections).set(values).where(eq(orgSsoConnections.orgId, orgId));
				} else {
					await tx.insert(orgSsoConnections).values({
						orgId,
						createdBy: userId,
						clientSecretEnc: sealed ?? "",
						...values,
					});
				}
				await recordAudit(tx, deps.meta, {
					action: "sso_configured",
					result: existing ? "updated" : "created",
					userId,
					detail: {
						org_id: orgId,
						issuer: input.issuer,
						secret_changed: sealed !== null,
						...(input.password_login_disabled === undefined
							? {}
							: { password_login_disabled: input.password_login_disabled }),
					},
				});
			});
			return settingsOf(deps, orgId);
		},

		/** Removes the provider and every domain claim: the org's members log in as before. */
		async remove(userId: string, orgId: string): Promise<void> {
			await requireSsoAdmin(deps, orgId, userId);
			await deps.db.transaction(async (tx) => {
				const gone = await tx
					.delete(orgSsoConnections)
					.where(eq(orgSsoConnections.orgId, orgId))
					.returning({ orgId: orgSsoConnections.orgId });
				await tx.delete(orgSsoDomains).where(eq(orgSsoDomains.orgId, orgId));
				if (gone.length === 0) throw apiError("NOT_FOUND", "This organisation has no SSO set up.");
				await recordAudit(tx, deps.meta, {
					action: "sso_removed",
					result: "success",
					userId,
					detail: { org_id: orgId },
				});
			});
		},

		async addDomain(userId: string, orgId: string, input: string): Promise<SsoDomainView> {
			await requireSsoAdmin(deps, orgId, userId);
			const domain = normalizeDomain(input);
			if (!domain) {
				throw new ApiError("INVALID_REQUEST", "domain must be a host name such as acme.com.", {
					extra: { fields: ["domain"] },
				});
			}
			return deps.db.transaction(async (tx) => {
				const [row] = await tx
					.insert(orgSsoDomains)
					.values({ orgId, domain, verificationToken: newVerificationToken() })
					.onConflictDoNothing()
					.returning();
				if (!row) throw apiError("CONFLICT", "This organisation has already added this domain.");
				await recordAudit(tx, deps.meta, {
					action: "sso_domain_added",
					result: "success",
					userId,
					detail: { org_id: orgId, domain },
				});
				return domainView(row);
			});
		},

		/** Looks the TXT record up; a domain another org holds verified is a 409. */
		async verifyDomain(userId: string, orgId: string, input: string): Promise<SsoDomainView> {
			await requireSsoAdmin(deps, orgId, userId);
			const domain = normalizeDomain(input) ?? "";
			const [row] = await deps.db
				.select()
				.from(orgSsoDomains)
				.where(and(eq(orgSsoDomains.orgId, orgId), eq(orgSsoDomains.domain, domain)));
			if (!row) throw apiError("NOT_FOUND", "This organisation has not added this domain.");
			if (row.verifiedAt) return domainView(row);
			const outcome = await checkVerificationRecord(deps.resolver, domain, row.verificationToken);
			const record = verificationRecord(domain, row.verificationToken);
			if (outcome !== "verified") {
				// Committed on its own: the refusal is the answer, and stays in the log.
				await recordAudit(deps.db, deps.meta, {
					action: "sso_domain_verified",
					result: outcome,
					userId,
					detail: { org_id: orgId, domain },
				});
				throw outcome === "lookup_failed"
					? apiError("BAD_GATEWAY", "The DNS lookup failed. Try again shortly.")
					: apiError(
							"CONFLICT",
							`No TXT record ${record.name} with the value ${record.value} was found yet; DNS changes can take a while to appear.`,
						);
			}
			return deps.db.transaction(async (tx) => {
				const [held] = await tx
					.select({ orgId: orgSsoDomains.orgId })
					.from(orgSsoDomains)
					.where(
						and(
							eq(orgSsoDomains.domain, domain),
							ne(orgSsoDomains.orgId, orgId),
							isNotNull(orgSsoDomains.verifiedAt),
						),
					);
				if (held) {
					throw apiError("CONFLICT", "Another organisation has already verified this domain.");
				}
				const [updated] = await tx
					.update(orgSsoDomains)
					.set({ verifiedAt: deps.now() })
					.where(and(eq(orgSsoDomains.orgId, orgId), eq(orgSsoDomains.domain, domain)))
					.returning();
				await recordAudit(tx, deps.meta, {
					action: "sso_domain_verified",
					result: "success",
					userId,
					detail: { org_id: orgId, domain },
				});
				if (!updated) throw apiError("NOT_FOUND", "This organisation has not added this domain.");
				return domainView(updated);
			});
		},

		async removeDomain(userId: string, orgId: string, input: string): Promise<void> {
			await requireSsoAdmin(deps, orgId, userId);
			const domain = normalizeDomain(input) ?? "";
			await deps.db.transaction(async (tx) => {
				const gone = await tx
					.delete(orgSsoDomains)
					.where(and(eq(orgSsoDomains.orgId, orgId), eq(orgSsoDomains.domain, domain)))
					.returning({ domain: orgSsoDomains.domain });
				if (gone.length === 0) {
					throw apiError("NOT_FOUND", "This organisation has not added this domain.");
				}
				await recordAudit(tx, deps.meta, {
					action: "sso_domain_removed",
					result: "success",
					userId,
					detail: { org_id: orgId, domain },
				});
			});
		},
	};
}

export type SsoAdmin = ReturnType<typeof ssoAdmin>;
