/**
 * Signing in through an org's own OpenID provider (docs/api.md §3.8): `start` finds the org
 * (by a verified email domain, or by id) and answers the provider's authorization URL;
 * `callback` redeems the code there (src/sso/oidc.ts), takes the account the provider vouches
 * for and puts it on a free seat of the org, then starts the same session as any login.
 *
 * The CLI drives the browser part like Google/GitHub sign-in (PKCE, loopback on
 * `/callback/sso`). Nothing is stored between the two steps: `state` is the server's own
 * sealed note (HMAC under the pepper, 10 minutes) of the org, the nonce, the PKCE challenge
 * and the redirect URI, and the CLI's loopback accepts only that state. So the callback
 * knows which org's provider the code is for without trusting the caller to say, and checks
 * the verifier against the challenge itself even where a provider ignores PKCE.
 */

import { eq } from "drizzle-orm";
import { constantTimeEqual } from "../accounts/password";
import { createOrVerifyUser, signupAddressTag } from "../accounts/service";
import { issueSession, type SessionView } from "../accounts/sessions";
import { type RequestMeta, recordAudit } from "../audit/log";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { orgMembers, users } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { newId } from "../ids";
import { encodeBase64Url, encodeUtf8 } from "../kernel/base64url";
import type { Licenses, LicenseView } from "../licenses/index";
import { seatData } from "../orgs/create";
import { membershipOf } from "../orgs/membership";
import type { OrgSummary } from "../orgs/orgs";
import { lockOrgForSeats, type SeatCount, seatCount, seatLimitError } from "../orgs/seats";
import { enqueue } from "../webhooks/outbox";
import { domainOfEmail } from "./domains";
import {
	discover,
	exchangeSsoCode,
	isAllowedSsoRedirectUri,
	SSO_REDIRECT_PATH,
	SSO_SCOPES,
} from "./oidc";
import { isVerifiedDomainOf, type SsoRoute, ssoRouteForDomain, ssoRouteForOrg } from "./policy";
import { openSecret } from "./secret-box";
import { openSsoState, sealSsoState } from "./state";

/** How long a started SSO login may take in the browser. */
export const SSO_STATE_TTL_S = 600;

export interface SsoLoginDeps {
	db: Database;
	config: Config;
	meta: RequestMeta;
	/** Addresses that become accounts claim the licenses granted to them. */
	licenses: Licenses;
	now(): Date;
}

export interface SsoStartInput {
	email?: string | undefined;
	org?: string | undefined;
	redirect_uri: string;
	code_challenge: string;
}

export interface SsoStartView {
	authorization_url: string;
	state: string;
	expires_in: number;
	org: { id: string; name: string };
}

export interface SsoCallbackInput {
	state: string;
	code: string;
	code_verifier: string;
	redirect_uri: string;
}

export type SsoLoginView = SessionView & {
	licenses: LicenseView[];
	org: OrgSummary;
	seat_id: string;
	/** True when this login took a new seat; false for a member already. */
	joined: boolean;
};

/**
 * One answer for an unknown org, an unknown domain, a claimed but unverified domain and an
 * org without a provider: which of these it is is nobody's business, and no account is read.
 */
const notConfigured = (): ApiError =>
	apiError(
		"NOT_FOUND",
		"No organisation signs in this address or id through single sign-on (its domain must be verified by the organisation).",
	);

const staleState = (): ApiError =>
	apiError(
		"INVALID_CODE",
		"This single sign-on attempt is unknown or older than 10 minutes. Run `coditect login --sso` again.",
	);

function randomToken(): string {
	return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

async function s256(verifier: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", encodeUtf8(verifier));
	return encodeBase64Url(new Uint8Array(digest));
}

export function ssoLogin(deps: SsoLoginDeps) {
	const { db, config, meta } = deps;

	/** A refusal after the provider answered: logged on its own (the answer is the refusal). */
	async function refuse(result: string, route: SsoRoute, detail: Record<string, unknown>) {
		await recordAudit(db, meta, {
			action: "failed_login",
			result,
			detail: { sso_org_id: route.orgId, ...detail },
		});
	}

	return {
		async start(input: SsoStartInput): Promise<SsoStartView> {
			if ((input.email === undefined) === (input.org === undefined)) {
				throw new ApiError("INVALID_REQUEST", "Give either email or org, not both.", {
					extra: { fields: ["email", "org"] },
				});
			}
			if (!isAllowedSsoRedirectUri(input.redirect_uri)) {
				throw new ApiError(
					"INVALID_REQUEST",
					`redirect_uri must be http://127.0.0.1:<port>${SSO_REDIRECT_PATH} (or [::1]).`,
					{ extra: { fields: ["redirect_uri"] } },
				);
			}
			let route: SsoRoute | undefined;
			if (input.email !== undefined) {
				const domain = domainOfEmail(input.email.trim().toLowerCase());
				route = domain ? await ssoRouteForDomain(db, domain) : undefined;
			} else {
				route = await ssoRouteForOrg(db, input.org ?? "");
			}
			if (!route) throw notConfigured();
			const as = await discover(route.issuer);
			if (!as.authorization_endpoint) {
				throw apiError(
					"BAD_GATEWAY",
					"The organisation's identity provider names no authorization endpoint.",
				);
			}
			const nonce = randomToken();
			const state = await sealSsoState(config.pepper, {
				o: route.orgId,
				n: nonce,
				c: input.code_challenge,
				r: input.redirect_uri,
				x: Math.floor(deps.now().getTime() / 1000) + SSO_STATE_TTL_S,
			});
			const url = new URL(as.authorization_endpoint);
			url.searchParams.set("response_type", "code");
			url.searchParams.set("client_id", route.clientId);
			url.searchParams.set("redirect_uri", input.redirect_uri);
			url.searchParams.set("scope", SSO_SCOPES.join(" "));
			url.searchParams.set("state", state);
			url.searchParams.set("nonce", nonce);
			url.searchParams.set("code_challenge", input.code_challenge);
			url.searchParams.set("code_challenge_method", "S256");
			// Saves the user typing the address again at the provider (OIDC Core §3.1.2.1).
			if (input.email !== undefined) url.searchParams.set("login_hint", input.email.trim());
			return {
				authorization_url: url.toString(),
				state,
				expires_in: SSO_STATE_TTL_S,
				org: { id: route.orgId, name: route.orgName },
			};
		},

		async callback(input: SsoCallbackInput): Promise<SsoLoginView> {
			const flow = await openSsoState(config.pepper, input.state, deps.now());
			if (!flow) throw staleState();
			if (input.redirect_uri !== flow.r) {
				throw new ApiError(
					"INVALID_REQUEST",
					"redirect_uri is not the one this sign-in was started with.",
					{ extra: { fields: ["redirect_uri"] } },
				);
			}
			if (!constantTimeEqual(encodeUtf8(await s256(input.code_verifier)), encodeUtf8(flow.c))) {
				throw apiError(
					"INVALID_CODE",
					"The PKCE code_verifier does not match this sign-in's challenge. Sign in again.",
				);
			}
			// The org may have removed its provider or domains since the start.
			const route = await ssoRouteForOrg(db, flow.o);
			if (!route) throw notConfigured();
			const secret = await openSecret(
				config.settings.LICENSE_KEY_PEPPER,
				route.orgId,
				route.clientSecretEnc,
			);
			if (secret === null) {
				// Sealed under another pepper: the operator changed LICENSE_KEY_PEPPER.
				console.error(`sso client secret of ${route.orgId} does not open`);
				throw apiError(
					"MISCONFIGURED",
					"This organisation's SSO client secret cannot be read on this server; its admin must enter it again.",
				);
			}
			const identity = await exchangeSsoCode(
				{ issuer: route.issuer, clientId: route.clientId, clientSecret: secret },
				{
					code: input.code,
					code_verifier: input.code_verifier,
					redirect_uri: input.redirect_uri,
					nonce: flow.n,
				},
			);
			const email = identity.verifiedEmail;
			if (!email) {
				await refuse("sso_email_unverified", route, {});
				throw apiError(
					"FORBIDDEN",
					`${route.orgName}'s identity provider did not vouch for an email address (email_verified) for this account.`,
				);
			}
			const domain = domainOfEmail(email);
			// Checked against this org only: a provider cannot sign in another org's domain.
			if (!domain || !(await isVerifiedDomainOf(db, route.orgId, domain))) {
				await refuse("sso_domain_not_verified", route, { domain });
				throw apiError(
					"FORBIDDEN",
					`${email} is not in a domain ${route.orgName} has verified for single sign-on; ask its admin to add and verify the domain.`,
				);
			}
			const now = deps.now();
			let outcome: {
				session: SessionView;
				org: OrgSummary;
				seatId: string;
				joined: boolean;
			};
			try {
				outcome = await db.transaction(async (tx) => {
					const before = await tx.query.users.findFirst({
						where: eq(users.email, email),
						columns: { id: true },
					});
					const user = await createOrVerifyUser(tx, email, null);
					// Same lock and count as accepting an invitation: seats never exceed the license's.
					const org = await lockOrgForSeats(tx, route.orgId);
					if (!org) throw notConfigured();
					const summary = (role: OrgSummary["role"]): OrgSummary => ({
						id: org.id,
						name: org.name,
						role,
						created_at: org.createdAt.toISOString(),
					});
					const existing = await membershipOf(tx, org.id, user.id);
					let seatId = existing?.id;
					if (!seatId) {
						const count = await seatCount(tx, org.id, now);
						// Audited below, on its own: the transaction rolls back.
						if (count.used >= count.seats) throw new SeatRefused(count, before?.id ?? null);
						seatId = newId("seat");
						await tx
							.insert(orgMembers)
							.values({ id: seatId, orgId: org.id, userId: user.id, role: "member" });
						await enqueue(tx, {
							type: "seat.assigned",
							orgId: org.id,
							data: seatData(seatId, org.id, user.id, "member", "sso"),
						});
						await recordAudit(tx, meta, {
							action: "org_join",
							result: "success",
							userId: user.id,
							licenseId: count.licenseId,
							detail: { org_id: org.id, seat_id: seatId, via: "sso" },
						});
					}
					await deps.licenses.claimByEmail(tx, user.id, email);
					if (!before) {
						await recordAudit(tx, meta, {
							action: "signup",
							result: "sso",
							userId: user.id,
							detail: { org_id: org.id, address: await signupAddressTag(config.pepper, email) },
						});
					}
					await recordAudit(tx, meta, {
						action: "login",
						result: "success",
						userId: user.id,
						detail: { sso_org_id: org.id },
					});
					const session = await issueSession(tx, config, user, undefined, now);
					return {
						session,
						org: summary(existing?.role ?? "member"),
						seatId,
						joined: !existing,
					};
				});
			} catch (err) {
				if (!(err instanceof SeatRefused)) throw err;
				await recordAudit(db, meta, {
					action: "org_join",
					result: "SEAT_LIMIT_REACHED",
					userId: err.userId,
					detail: {
						org_id: route.orgId,
						via: "sso",
						seats: err.count.seats,
						used: err.count.used,
					},
				});
				throw seatLimitError(route.orgName, err.count);
			}
			return {
				...outcome.session,
				licenses: await deps.licenses.summaryOf(outcome.session.user.id),
				org: outcome.org,
				seat_id: outcome.seatId,
				joined: outcome.joined,
			};
		},
	};
}

export type SsoLogin = ReturnType<typeof ssoLogin>;

/** Thrown inside the transaction so the account it would have made rolls back with it. */
class SeatRefused extends Error {
	constructor(
		readonly count: SeatCount,
		readonly userId: string | null,
	) {
		super("no free seat");
	}
}
