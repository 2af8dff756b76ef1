/**
 * What the route schemas cannot say: a summary per operation, its responses and the error
 * codes its domain raises. Request bodies, parameters, auth and rate limits are not written
 * here; the document reads them from the middleware each route really runs (./tags.ts).
 * Response schemas are typed against the services' return types, so a renamed or retyped
 * field fails the type-check instead of drifting.
 */
import * as z from "zod";
import type { AdminUserView } from "../accounts/directory";
import type { InviteBatchDetail, InviteBatchSummary } from "../accounts/invite-batches";
import type { ProviderInfo } from "../accounts/oauth";
import type { CreatedInviteBatch } from "../accounts/service";
import type { SessionView } from "../accounts/sessions";
import type { AuditEntry } from "../audit/query";
import type { ApiKeyView, LeaseView, TrustRuleView } from "../ci/index";
import { LICENSE_STATUSES, type PlanEntitlements as PlanEntitlementsType } from "../db/schema";
import type { ErrorCode } from "../errors";
import { codeToStatus } from "../errors";
import type {
	ActivateResult,
	ActivationView,
	LicenseView,
	OwnedLicense,
	ValidateResult,
} from "../licenses/index";
import type { AdminActivationView } from "../licenses/machines";
import type { OfflineLicenseFile as OfflineLicenseFileView } from "../licenses/offline";
import type { AdminLicenseView } from "../licenses/search";
import type { LaunchDay, LaunchMetrics } from "../metrics/dashboard";
import type { AdminOrgView } from "../orgs/directory";
import type { InvitationView, OrgDashboard, OrgSummary } from "../orgs/index";
import type { SsoDomainView, SsoSettingsView } from "../sso/admin";
import type { SsoLoginView, SsoStartView } from "../sso/login";
import type { WebhookDeliveryView, WebhookEndpointView } from "../webhooks/endpoints";
import { WEBHOOK_EVENTS } from "../webhooks/outbox";

/** Named response schemas: they become `#/components/schemas/<id>`. */
export const components = z.registry<{ id: string }>();

/** Responses: a plain date-time (the validators' long pattern is for input). */
const isoTime = z.string().meta({ format: "date-time" });

export const ErrorBody = z
	.object({
		error: z.looseObject({
			code: z.enum(Object.keys(codeToStatus) as [ErrorCode, ...ErrorCode[]]),
			message: z.string().describe("A human sentence; never echoes secrets, keys or tokens."),
			request_id: z.string().describe("Also in the X-Request-Id header; quote it to support."),
			fields: z
				.array(z.string())
				.optional()
				.describe("INVALID_REQUEST: the offending field names (never their values)."),
			retry_after: z
				.number()
				.int()
				.meta({ examples: [42] })
				.optional()
				.describe("RATE_LIMITED: seconds to wait."),
		}),
	})
	.describe("Every non-2xx answer, 5xx included.")
	.register(components, { id: "Error" });

/**
 * Two things are called `entitlements` on the wire, and both names are fixed (the API's field
 * by its clients, the token's claim by the token format): the API's license view carries this
 * object, the license token's `lic.entitlements` only its `features` array. They get distinct
 * schema names so neither reads as the other.
 */
const PlanEntitlements = z
	.object({
		activations_per_seat: z
			.number()
			.int()
			.meta({ examples: [3] })
			.describe("Machines per seat."),
		seats: z
			.number()
			.int()
			.meta({ examples: [1] }),
		ci_runners: z
			.number()
			.int()
			.meta({ examples: [0] }),
		features: z
			.array(z.string())
			.meta({ examples: [["cli", "offline"]] })
			.describe("Feature names; exactly what a license token carries as `lic.entitlements`."),
	})
	.describe(
		"What the plan grants. A license token's `lic.entitlements` claim is not this object but its `features` array alone.",
	)
	.register(components, { id: "PlanEntitlements" }) satisfies z.ZodType<PlanEntitlementsType>;

export const License = z
	.object({
		id: z.string().describe("`lic_…`"),
		plan: z.string(),
		status: z.enum(LICENSE_STATUSES),
		expires_at: isoTime.nullable().describe("End of the paid or granted period; null = perpetual."),
		max_activations: z
			.number()
			.int()
			.meta({ examples: [3] }),
		key_last4: z.string().describe("The key is shown in full only when it is created."),
		entitlements: PlanEntitlements,
	})
	.register(components, { id: "License" }) satisfies z.ZodType<LicenseView>;

export const AdminLicense = License.extend({
	owner: z.object({ id: z.string(), email: z.string() }).nullable(),
	owner_email: z.string().nullable().describe("Granted to an address with no account yet."),
	org_id: z.string().nullable(),
	source: z.string().describe("`stripe`, `admin`, …"),
	stripe_customer_id: z.string().nullable(),
	stripe_subscription_id: z.string().nullable(),
	created_at: isoTime,
}).register(components, { id: "AdminLicense" }) satisfies z.ZodType<AdminLicenseView>;

export const Activation = z
	.object({
		id: z.string().describe("`act_…`"),
		hardware_id: z.string(),
		hostname: z.string().nullable(),
		platform: z.string().nullable(),
		created_at: isoTime,
		last_validated_at: isoTime.nullable(),
		offline: z
			.boolean()
			.describe(
				"Activated from an air-gapped machine's request file; see docs/offline-activation.md.",
			),
	})
	.register(components, { id: "Activation" }) satisfies z.ZodType<ActivationView>;

const OrgRole = z.enum(["owner", "admin", "member"]);

export const Org = z
	.object({
		id: z.string().describe("`org_…`"),
		name: z.string(),
		role: OrgRole.describe("The caller's role."),
		created_at: isoTime,
	})
	.register(components, { id: "Org" }) satisfies z.ZodType<OrgSummary>;

export const OrgDashboardBody = z
	.object({
		id: z.string(),
		name: z.string(),
		license: License.extend({ seats: z.number().int().describe("Named seats bought.") })
			.nullable()
			.describe("The license the seats come from; null until one is bought or granted."),
		seats: z.object({
			total: z.number().int().describe("Seats bought (0 without a usable license)."),
			used: z.number().int().describe("Members: each holds one named seat."),
			over_by: z
				.number()
				.int()
				.describe(
					"Members beyond the seats bought after a lowered quantity: kept, no one new joins.",
				),
		}),
		members: z.array(
			z.object({
				seat_id: z.string().describe("`seat_…`, the `seat` claim of this member's tokens."),
				user_id: z.string(),
				email: z.string(),
				role: OrgRole,
				joined_at: isoTime,
				machines: z.array(Activation).describe("This member's active machines on the org license."),
			}),
		),
		ci: z.object({
			limit: z.number().int().describe("Concurrent CI runner slots of the plan."),
			active: z.number().int().describe("Leases holding a slot now."),
			last_30_days: z.number().int().describe("Leases granted in the last 30 days."),
		}),
	})
	.register(components, { id: "OrgDashboard" }) satisfies z.ZodType<OrgDashboard>;

const Invitation = z.object({
	id: z.string(),
	email: z.string(),
	role: OrgRole,
	expires_at: isoTime,
}) satisfies z.ZodType<InvitationView>;

export const LicenseToken = z
	.string()
	.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
	.describe(
		[
			"Compact JWS (RFC 7515) signed with Ed25519 (RFC 8037). Header",
			'`{"alg":"EdDSA","typ":"coditect-license+jwt","kid":"…"}`. Claims: `iss` (server URL),',
			'`aud` "coditect-cli", `sub` (license id), `jti`, `iat`, `nbf`, `exp` (`iat` + 72 h, never',
			"past the license's own end), `hwid` (the activation's hardware id) and `lic`",
			"`{plan, status, expires_at, max_activations, entitlements}`, where `entitlements` is an",
			"array of feature names (the `features` of PlanEntitlements, not the whole object). Verify",
			"with a key from `/.well-known/jwks.json` chosen by `kid`; pin `alg`, `typ` and `aud`;",
			"check `hwid`. Offline tokens for air-gapped machines add `offline: true` and `nonce`, and",
			"their `exp` is the license's end or one year (docs/offline-activation.md).",
			"The full specification is docs/license-token.md in the server's repository.",
		].join(" "),
	)
	.register(components, { id: "LicenseToken" });

const Session = z
	.object({
		token_type: z.literal("Bearer"),
		access_token: z.string().describe("JWT, valid 15 minutes."),
		expires_in: z
			.number()
			.int()
			.meta({ examples: [900] })
			.describe("Seconds."),
		refresh_token: z.string().describe("Opaque; rotates on every use; 90 days at most."),
		refresh_expires_in: z
			.number()
			.int()
			.meta({ examples: [7776000] })
			.describe("Seconds."),
		user: z.object({ id: z.string(), email: z.string() }),
	})
	.register(components, { id: "Session" }) satisfies z.ZodType<SessionView>;

const OwnedLicenseSchema = License.extend({ activations: z.array(Activation) }).register(
	components,
	{ id: "OwnedLicense" },
) satisfies z.ZodType<OwnedLicense>;

const ValidateResponse = z
	.object({
		valid: z.boolean(),
		code: z.enum([
			"VALID",
			"NOT_FOUND",
			"EXPIRED",
			"SUSPENDED",
			"REVOKED",
			"PAST_DUE",
			"NOT_ACTIVATED",
		]),
		license: License.nullable(),
		token: LicenseToken.nullable().describe("Only when valid."),
	})
	.register(components, { id: "ValidateResult" }) satisfies z.ZodType<ValidateResult>;

const ActivateResponse = z
	.object({ activation: Activation, license: License, token: LicenseToken })
	.register(components, { id: "ActivateResult" }) satisfies z.ZodType<
	Omit<ActivateResult, "created">
>;

/** The server's public license-token keys, as /.well-known/jwks.json serves them. */
const JwkSet = z
	.object({
		keys: z.array(
			z.looseObject({
				kty: z.literal("OKP"),
				crv: z.literal("Ed25519"),
				x: z.string(),
				kid: z.string(),
				alg: z.literal("EdDSA"),
				use: z.literal("sig"),
			}),
		),
	})
	.register(components, { id: "JwkSet" });

const OfflineLicenseFile = z
	.object({
		format: z.literal("coditect-offline-license"),
		version: z.literal(1),
		created: z
			.boolean()
			.describe("false: this machine already held a seat (same or newer request)."),
		activation: Activation,
		license: License,
		token: LicenseToken.describe(
			"An offline license token: `offline: true`, the request's `nonce`, `exp` = the license's end or one year.",
		),
		jwks: JwkSet.describe(
			"The server's JWKS, for CLIs of self-hosted servers that cannot fetch it (never trusted for the production URL).",
		),
	})
	.describe(
		"The license file: save the whole body and install it with `coditect activate --offline-response FILE`.",
	)
	.register(components, { id: "OfflineLicenseFile" }) satisfies z.ZodType<OfflineLicenseFileView>;

const OfflineReleased = z.object({ deactivated: z.literal(true), activation_id: z.string() });

/** Upload a request file / a release receipt: the owner and operator routes answer alike. */
const offlineActivation = (who: string): OperationDoc => ({
	summary: "Air-gapped activation: upload a machine's request file, get its license file",
	description: `${who} The body is the request file \`coditect activate --offline-request\` wrote, unchanged. Counts against the activation limit like any activation; the same request again (or a new one from the same machine) answers 200 with a fresh license file for the same seat. docs/offline-activation.md describes the files.`,
	tag: "Licenses",
	responses: {
		200: ok("This machine already held a seat.", OfflineLicenseFile),
		201: ok("Activated.", OfflineLicenseFile),
	},
	errors: [
		"LICENSE_NOT_FOUND",
		"ACTIVATION_LIMIT_REACHED",
		"EXPIRED",
		"SUSPENDED",
		"REVOKED",
		"PAST_DUE",
	],
});
const offlineDeactivation = (who: string): OperationDoc => ({
	summary: "Air-gapped deactivation: upload a machine's release receipt, free its seat",
	description: `${who} The body is the receipt file \`coditect deactivate --offline\` wrote, unchanged; it is signed by the machine's own key and works once (409 when used already or superseded by a newer request from the machine).`,
	tag: "Licenses",
	responses: { 200: ok("The seat is free.", OfflineReleased) },
	errors: ["ACTIVATION_NOT_FOUND", "CONFLICT"],
});

const Provider = z.object({
	name: z.enum(["google", "github"]),
	authorization_endpoint: z.string(),
	client_id: z.string(),
	scopes: z.array(z.string()),
	code_challenge_method: z.literal("S256"),
	redirect_path: z.string().describe("The loopback path this provider's code must return to."),
}) satisfies z.ZodType<ProviderInfo>;

const SsoStart = z
	.object({
		authorization_url: z
			.string()
			.describe("The org provider's authorization endpoint with every parameter set."),
		state: z.string().describe("Opaque; the callback must come back with exactly this."),
		expires_in: z
			.number()
			.int()
			.meta({ examples: [600] }),
		org: z.object({ id: z.string(), name: z.string() }),
	})
	.register(components, { id: "SsoStart" }) satisfies z.ZodType<SsoStartView>;

const SsoLoginBody = Session.extend({
	licenses: z.array(License),
	org: Org,
	seat_id: z.string().describe("`seat_…`"),
	joined: z.boolean().describe("True when this sign-in took a new seat."),
}).register(components, { id: "SsoLogin" }) satisfies z.ZodType<SsoLoginView>;

const rate = z.number().min(0).max(1).nullable();
const LaunchMetricsSchema = z
	.object({
		since: isoTime,
		until: isoTime.describe("The database's clock when the figures were read."),
		signups: z
			.number()
			.int()
			.describe(
				"People, not requests: distinct email addresses sent a signup code or given an account through OAuth or SSO in the window (an address asking twice counts once; existing accounts are not counted).",
			),
		verified_users: z.number().int().describe("Accounts whose email was verified in the window."),
		checkouts: z.object({
			started: z.number().int().describe("Stripe Checkout sessions opened (sessions, not buyers)."),
			completed: z.number().int().describe("Checkout sessions paid (webhook), each once."),
			success_rate: rate.describe("Share of the sessions started in the window that were paid."),
		}),
		licenses: z.object({
			created: z
				.number()
				.int()
				.describe("Licenses created in the window (paid and operator-made)."),
			activated: z.number().int().describe("Of those, licenses activated on ≥ 1 machine."),
			activation_rate: rate.describe("activated / created."),
		}),
		validations: z
			.number()
			.int()
			.describe("License validation calls, whatever their answer (calls, not licenses)."),
		failed_logins: z
			.number()
			.int()
			.describe("Refused login attempts (attempts, not accounts or people)."),
		lockouts: z
			.number()
			.int()
			.describe("Lockout events: an account locked twice in the window counts twice."),
	})
	.describe("Counts over since ≤ t ≤ until; rates are null when their denominator is 0.")
	.register(components, { id: "LaunchMetrics" }) satisfies z.ZodType<LaunchMetrics>;

export type Tag =
	| "Public"
	| "Accounts"
	| "Licenses"
	| "Organisations"
	| "Billing"
	| "Operators"
	| "Console"
	| "Webhooks"
	| "CI";

export interface ResponseDoc {
	description: string;
	/** A JSON body, an HTML page, a script, or nothing (204). */
	body?: z.ZodType | "html" | "javascript" | "css";
}

export interface OperationDoc {
	summary: string;
	description?: string;
	tag: Tag;
	/** Success answers by status. */
	responses: Record<number, ResponseDoc>;
	/** Codes the domain raises, beyond those the middleware implies (400, 401, 413, 415, 429, 5xx). */
	errors?: ErrorCode[];
	/** For the few routes whose input no validator describes (the raw webhook body). */
	requestBody?: { contentType: string; description: string };
	headers?: Array<{ name: string; description: string; required: boolean }>;
}

const ok = (description: string, body?: ResponseDoc["body"]): ResponseDoc =>
	body === undefined ? { description } : { description, body };
const licenseObject = z.object({ license: License });
const InviteBatchSummarySchema = z.object({
	id: z.string(),
	label: z.string().nullable(),
	codes: z.number().int(),
	used: z.number().int(),
	created_at: isoTime,
}) satisfies z.ZodType<InviteBatchSummary>;

/**
 * Keyed by `METHOD /path` as OpenAPI spells it. A route the app serves without an entry here,
 * or an entry for a route it does not serve, fails test/unit/openapi.test.ts.
 */
/** What activate and activate-mine answer: they share the activation path. */
const activation: Pick<OperationDoc, "responses" | "errors"> = {
	responses: {
		200: ok("This machine was already active.", ActivateResponse),
		201: ok("Activated.", ActivateResponse),
	},
	errors: [
		"LICENSE_NOT_FOUND",
		"ACTIVATION_LIMIT_REACHED",
		"EXPIRED",
		"SUSPENDED",
		"REVOKED",
		"PAST_DUE",
	],
};

export const operations: Record<string, OperationDoc> = {
	"GET /healthz": {
		summary: "Liveness and database check",
		tag: "Public",
		responses: { 200: ok("The database answers.", z.object({ status: z.literal("ok") })) },
	},
	"GET /.well-known/jwks.json": {
		summary: "License-token public keys",
		description: "Current and still-valid previous keys (OKP/Ed25519 JWKs with kid, alg, use).",
		tag: "Public",
		responses: {
			200: ok("The key set.", JwkSet),
		},
	},
	"GET /openapi.json": {
		summary: "This document",
		tag: "Public",
		responses: {
			200: ok(
				"OpenAPI 3.1, generated from the route schemas.",
				z.looseObject({
					openapi: z.literal("3.1.0"),
					info: z.looseObject({}),
					paths: z.looseObject({}),
				}),
			),
		},
	},
	"GET /docs": {
		summary: "API reference page",
		description:
			"Renders /openapi.json with Scalar's viewer, served from this origin (no outside request); links to /openapi.json when its script cannot run.",
		tag: "Public",
		responses: { 200: ok("An HTML page rendering /openapi.json.", "html") },
	},
	"GET /docs/{script}": {
		summary: "The reference page's scripts",
		description:
			"The viewer's bundle (a versioned name, cached for a year) and its start-up script. Any other name answers 404.",
		tag: "Public",
		responses: { 200: ok("JavaScript.", "javascript") },
		errors: ["NOT_FOUND"],
	},
	"POST /api/v1/auth/signup": {
		summary: "Start a signup",
		description:
			"Answers 202 for every well-formed request, new email or existing (no account enumeration). A 6-digit code goes out by email. During the pilot a valid unused invite_code is required. A server that cannot send email answers 503 MAIL_NOT_CONFIGURED. An address whose domain an org has verified for SSO with password login turned off → 403 SSO_REQUIRED (decided by the domain alone).",
		tag: "Accounts",
		responses: {
			202: ok(
				"Code sent (or an 'already registered' mail).",
				z.object({ status: z.literal("verification_sent") }),
			),
		},
		errors: ["INVITE_REQUIRED", "MAIL_NOT_CONFIGURED", "SSO_REQUIRED"],
	},
	"POST /api/v1/auth/verify": {
		summary: "Verify the emailed code",
		description:
			"Codes expire after 15 minutes or 5 tries. A domain whose org turned password login off → 403 SSO_REQUIRED.",
		tag: "Accounts",
		responses: { 200: ok("Verified: a session.", Session) },
		errors: ["INVALID_CODE", "INVITE_REQUIRED", "SSO_REQUIRED"],
	},
	"POST /api/v1/auth/login": {
		summary: "Log in with email and password",
		description:
			"Any failure (unknown email, wrong password, locked, unverified) is the same 401. Five failures lock the account for 15 minutes. An address whose domain an org has verified for SSO with password login turned off → 403 SSO_REQUIRED before any password check, account or not; the message names `coditect login --sso <email>`.",
		tag: "Accounts",
		responses: { 200: ok("A session.", Session) },
		errors: ["INVALID_CREDENTIALS", "SSO_REQUIRED"],
	},
	"POST /api/v1/auth/refresh": {
		summary: "Rotate a refresh token",
		description: "Reusing a rotated token answers 401 and revokes its whole family.",
		tag: "Accounts",
		responses: { 200: ok("A new session.", Session) },
		errors: ["UNAUTHORIZED"],
	},
	"POST /api/v1/auth/logout": {
		summary: "Log out",
		description: "Revokes the refresh token's family.",
		tag: "Accounts",
		responses: { 204: ok("Logged out.") },
	},
	"POST /api/v1/auth/oauth/callback": {
		summary: "Finish Google or GitHub sign-in",
		description:
			"The server exchanges the code with the provider (PKCE S256), then signs in the linked account, links an existing verified account with the provider's verified email, or creates an account. Creating one passes the same gate as signup: while signup is invite-only, a valid unused invite_code is required and spent (403 INVITE_REQUIRED otherwise); signing in or linking never needs or spends one. An account whose domain an org has verified for SSO with password login turned off → 403 SSO_REQUIRED (the org's own provider is the only door).",
		tag: "Accounts",
		responses: {
			200: ok("A session and the user's licenses.", Session.extend({ licenses: z.array(License) })),
		},
		errors: [
			"INVALID_CODE",
			"FORBIDDEN",
			"INVITE_REQUIRED",
			"SSO_REQUIRED",
			"NOT_FOUND",
			"BAD_GATEWAY",
		],
	},
	"POST /api/v1/auth/sso/start": {
		summary: "Start signing in through an org's own provider",
		description:
			"Give `email` (routed by its domain, which an org must have verified) or `org` (an org id), exactly one, plus the loopback `redirect_uri` (`/callback/sso`) and a PKCE S256 `code_challenge`. Answers the provider's authorization URL (with a nonce) and `state`, a sealed note of this sign-in valid 10 minutes: open the URL, accept only this `state` on the loopback, then post the code to `sso/callback`. An unknown org, an unknown or unverified domain and an org without a provider are the same 404; no account is looked up. The provider's discovery failing → 502.",
		tag: "Accounts",
		responses: { 200: ok("Where to send the browser.", SsoStart) },
		errors: ["NOT_FOUND", "BAD_GATEWAY"],
	},
	"POST /api/v1/auth/sso/callback": {
		summary: "Finish an SSO sign-in: account, seat, session",
		description:
			"Redeems the code at the org's provider (client secret, PKCE) and checks the ID token's issuer, audience, expiry and nonce, that `email_verified` is true and that the address's domain is one of this org's verified domains (else 403 FORBIDDEN). The account with that address is signed in, or created (no invite needed: the org's seat admits it). A member already keeps their seat; anyone else takes a free seat as `member`, under the same org lock as an invitation, or gets 403 SEAT_LIMIT_REACHED `{seats, used}` and no session. A tampered, foreign or expired `state`, a verifier that does not match the challenge, or a code the provider refuses → 400 INVALID_CODE.",
		tag: "Accounts",
		responses: { 200: ok("A session, the user's licenses and the org seat.", SsoLoginBody) },
		errors: ["INVALID_CODE", "FORBIDDEN", "SEAT_LIMIT_REACHED", "NOT_FOUND", "BAD_GATEWAY"],
	},
	"GET /api/v1/auth/oauth/providers": {
		summary: "Configured sign-in providers",
		tag: "Accounts",
		responses: { 200: ok("Providers.", z.object({ providers: z.array(Provider) })) },
	},
	"GET /api/v1/me": {
		summary: "The logged-in user and their licenses",
		tag: "Accounts",
		responses: {
			200: ok(
				"The user.",
				z.object({
					user: z.object({ id: z.string(), email: z.string() }),
					licenses: z.array(OwnedLicenseSchema),
				}),
			),
		},
	},
	"POST /api/v1/licenses/validate": {
		summary: "Validate a license on a machine",
		description:
			"A failed validation is a result (200, valid: false), not an error. A token is returned only when valid.",
		tag: "Licenses",
		responses: { 200: ok("The verdict.", ValidateResponse) },
	},
	"POST /api/v1/licenses/activate": {
		summary: "Activate a license on a machine",
		description:
			"Idempotent per machine. Never more activations than the limit, under any concurrency. An unusable license answers 403 with its validation code.",
		tag: "Licenses",
		...activation,
	},
	"POST /api/v1/licenses/deactivate": {
		summary: "Free this machine's seat",
		tag: "Licenses",
		responses: { 200: ok("Deactivated.", z.object({ deactivated: z.literal(true) })) },
		errors: ["ACTIVATION_NOT_FOUND"],
	},
	"GET /api/v1/licenses": {
		summary: "The caller's licenses with their activations",
		tag: "Licenses",
		responses: { 200: ok("Keys masked.", z.object({ licenses: z.array(OwnedLicenseSchema) })) },
	},
	"POST /api/v1/licenses/activate-mine": {
		summary: "Activate this machine with the caller's best license",
		tag: "Licenses",
		...activation,
	},
	"POST /api/v1/licenses/{id}/keys": {
		summary: "Issue a new key (the old one stops working)",
		description: "Another user's license answers 404, never 403.",
		tag: "Licenses",
		responses: { 201: ok("The new key, shown this once.", z.object({ license_key: z.string() })) },
		errors: ["LICENSE_NOT_FOUND"],
	},
	"POST /api/v1/licenses/{id}/activations/{activation_id}/token": {
		summary: "A fresh token for a machine the caller already holds (never activates)",
		description:
			"For the license's owner, or the member whose seat holds the machine on an org license. Answers like validate; counts against the validate budget, never the activation budget.",
		tag: "Licenses",
		responses: { 200: ok("The verdict, with a token when valid.", ValidateResponse) },
		errors: ["ACTIVATION_NOT_FOUND"],
	},
	"DELETE /api/v1/licenses/{id}/activations/{activation_id}": {
		summary: "Free a seat remotely (lost laptop)",
		description: "Another user's activation answers 404, never 403.",
		tag: "Licenses",
		responses: { 204: ok("Freed.") },
		errors: ["ACTIVATION_NOT_FOUND"],
	},
	"POST /api/v1/licenses/{id}/offline-activations": offlineActivation(
		"For the license's owner, or an owner or admin of the license's org; anyone else gets 404.",
	),
	"POST /api/v1/licenses/{id}/offline-deactivations": offlineDeactivation(
		"For the license's owner, or an owner or admin of the license's org; anyone else gets 404.",
	),
	"POST /api/v1/orgs": {
		summary: "Create an organisation (the caller becomes its owner and holds a seat)",
		tag: "Organisations",
		responses: { 201: ok("Created.", Org) },
	},
	"GET /api/v1/orgs": {
		summary: "The caller's organisations",
		tag: "Organisations",
		responses: { 200: ok("Oldest first.", z.object({ orgs: z.array(Org) })) },
	},
	"GET /api/v1/orgs/{id}": {
		summary: "The org dashboard: members, seats, machines, CI slots",
		description: "Non-members get 404.",
		tag: "Organisations",
		responses: { 200: ok("The dashboard.", OrgDashboardBody) },
		errors: ["NOT_FOUND"],
	},
	"POST /api/v1/orgs/{id}/invitations": {
		summary: "Invite by email (a single-use code, 7 days)",
		description: "Owners and admins. The code goes to the address only; it is never returned.",
		tag: "Organisations",
		responses: { 201: ok("Sent.", Invitation) },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"POST /api/v1/invitations/accept": {
		summary: "Accept an invitation: take a seat",
		description:
			"The caller's email must be the invited one. Seats never exceed the license's, under any concurrency.",
		tag: "Organisations",
		responses: {
			200: ok("Already a member.", z.object({ org: Org, seat_id: z.string() })),
			201: ok("Joined.", z.object({ org: Org, seat_id: z.string() })),
		},
		errors: ["INVALID_CODE", "SEAT_LIMIT_REACHED"],
	},
	"PATCH /api/v1/orgs/{id}/members/{user_id}": {
		summary: "Change a member's role",
		description: "Only owners grant or take away `owner`; the last owner cannot step down.",
		tag: "Organisations",
		responses: { 200: ok("Changed.", z.object({ user_id: z.string(), role: OrgRole })) },
		errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT"],
	},
	"DELETE /api/v1/orgs/{id}/members/{user_id}": {
		summary: "Remove a member (or leave): frees the seat and that member's machines at once",
		tag: "Organisations",
		responses: {
			200: ok("Removed.", z.object({ machines_freed: z.number().int() })),
		},
		errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT"],
	},
	"GET /api/v1/admin/licenses": {
		summary: "List and search licenses",
		description:
			"Newest first. Filters combine (AND): owner email substring, key last 4, status, plan, Stripe customer or subscription id. Keyset paging: pass `next_cursor` back as `cursor` until it is null.",
		tag: "Operators",
		responses: {
			200: ok(
				"A page of licenses.",
				z.object({ licenses: z.array(AdminLicense), next_cursor: z.string().nullable() }),
			),
		},
	},
	"POST /api/v1/admin/licenses": {
		summary: "Create a license (comp, pilot, invoiced)",
		tag: "Operators",
		responses: {
			201: ok(
				"The license and its key, shown this once.",
				z.object({ license: License, license_key: z.string() }),
			),
		},
	},
	"PATCH /api/v1/admin/licenses/{id}": {
		summary: "Edit a license: plan, activation limit, expiry, owner",
		description:
			"Only the fields sent change; `expires_at: null` makes it perpetual, `owner_email: null` unowned (an address without an account waits for it). Audited as `license_update` with each field's old and new value. A license cannot move between a personal and an organisation plan. Stripe-managed licenses are re-synced by Stripe's next event.",
		tag: "Operators",
		responses: { 200: ok("The license as changed.", licenseObject) },
		errors: ["LICENSE_NOT_FOUND"],
	},
	"POST /api/v1/admin/licenses/{id}/{action}": {
		summary: "Suspend, reinstate or revoke a license",
		description: "Takes effect on the next validate. A revoked license cannot be reinstated.",
		tag: "Operators",
		responses: { 200: ok("The license.", licenseObject) },
		errors: ["LICENSE_NOT_FOUND", "CONFLICT"],
	},
	"POST /api/v1/admin/licenses/{id}/offline-activations": {
		...offlineActivation("The operator's upload, for any license; audited."),
		tag: "Operators",
	},
	"POST /api/v1/admin/licenses/{id}/offline-deactivations": {
		...offlineDeactivation("The operator's upload, for any license; audited."),
		tag: "Operators",
	},
	"POST /api/v1/admin/invites": {
		summary: "A batch of single-use signup invites",
		description:
			"The codes are in this answer only: the server keeps their hashes and last 4 characters, under the batch whose list (`GET /api/v1/admin/invites/{id}`) says who used which. Audited as `invites_created` (count, batch id, label; never a code).",
		tag: "Operators",
		responses: {
			201: ok(
				"The batch and its codes, shown this once.",
				z.object({
					batch_id: z.string(),
					label: z.string().nullable(),
					codes: z.array(z.string()),
				}) satisfies z.ZodType<CreatedInviteBatch>,
			),
		},
	},
	"GET /api/v1/admin/invites": {
		summary: "List invite batches",
		description:
			"Newest first, with how many codes each holds and how many were used, keyset-paged.",
		tag: "Operators",
		responses: {
			200: ok(
				"A page of batches.",
				z.object({
					batches: z.array(InviteBatchSummarySchema),
					next_cursor: z.string().nullable(),
				}),
			),
		},
	},
	"GET /api/v1/admin/invites/{id}": {
		summary: "An invite batch: who used which code",
		description:
			"Every code of the batch by its last 4 characters (never the code), with the account that signed up with it and when; used codes first.",
		tag: "Operators",
		responses: {
			200: ok(
				"The batch.",
				InviteBatchSummarySchema.extend({
					invites: z.array(
						z.object({
							code_last4: z.string().nullable(),
							used_by: z.object({ id: z.string(), email: z.string() }).nullable(),
							used_at: isoTime.nullable(),
						}),
					),
				}) satisfies z.ZodType<InviteBatchDetail>,
			),
		},
		errors: ["NOT_FOUND"],
	},
	"GET /api/v1/admin/users": {
		summary: "List and search users",
		description:
			"Newest first, by email substring or Stripe customer id, keyset-paged. Never a password hash: `has_password` says whether one is set.",
		tag: "Operators",
		responses: {
			200: ok(
				"A page of users.",
				z.object({
					users: z.array(
						z.object({
							id: z.string(),
							email: z.string(),
							email_verified_at: isoTime.nullable(),
							has_password: z.boolean(),
							oauth_provider: z.string().nullable(),
							stripe_customer_id: z.string().nullable(),
							locked_until: isoTime.nullable(),
							licenses: z.number().int().describe("Licenses this user owns."),
							created_at: isoTime,
						}) satisfies z.ZodType<AdminUserView>,
					),
					next_cursor: z.string().nullable(),
				}),
			),
		},
	},
	"GET /api/v1/admin/orgs": {
		summary: "List and search organisations",
		description: "Newest first, by name substring (any case), keyset-paged.",
		tag: "Operators",
		responses: {
			200: ok(
				"A page of organisations.",
				z.object({
					orgs: z.array(
						z.object({
							id: z.string(),
							name: z.string(),
							members: z.number().int(),
							license_ids: z.array(z.string()),
							created_at: isoTime,
						}) satisfies z.ZodType<AdminOrgView>,
					),
					next_cursor: z.string().nullable(),
				}),
			),
		},
	},
	"GET /api/v1/admin/activations": {
		summary: "List activations (machines)",
		description:
			"Newest first, by license, hardware id and whether the seat is still held, keyset-paged.",
		tag: "Operators",
		responses: {
			200: ok(
				"A page of activations.",
				z.object({
					activations: z.array(
						Activation.extend({
							license_id: z.string(),
							deactivated_at: isoTime.nullable(),
						}) satisfies z.ZodType<AdminActivationView>,
					),
					next_cursor: z.string().nullable(),
				}),
			),
		},
	},
	"GET /api/v1/admin/audit": {
		summary: "Read the audit log",
		description:
			"Newest first, filtered by action, result, user, license and time (`since` ≤ at ≤ `until`). Keyset paging: pass `next_cursor` back as `cursor`. Rows hold no secrets; detail keys that would name one are masked anyway.",
		tag: "Operators",
		responses: {
			200: ok(
				"A page of events.",
				z.object({
					events: z.array(
						z.object({
							id: z.string(),
							at: isoTime,
							action: z.string(),
							result: z.string(),
							user_id: z.string().nullable(),
							license_id: z.string().nullable(),
							ip: z.string().nullable(),
							user_agent: z.string().nullable(),
							detail: z.record(z.string(), z.unknown()).nullable(),
						}) satisfies z.ZodType<AuditEntry>,
					),
					next_cursor: z.string().nullable(),
				}),
			),
		},
	},
	"GET /api/v1/admin/metrics": {
		summary: "Launch dashboard",
		description:
			"Signups, verified users, checkouts and payment success rate, licenses and activation rate, validations, failed logins and lockouts since `since` (default: 30 days ago), read in one statement.",
		tag: "Operators",
		responses: { 200: ok("The figures.", LaunchMetricsSchema) },
	},
	"GET /api/v1/admin/metrics/daily": {
		summary: "Launch dashboard per day",
		description:
			"The last `days` UTC days, oldest first, today so far included: signups, licenses created and activated (activation rate), checkouts started and paid (payment success). A rate is null on a day with nothing to divide. The console's charts draw these.",
		tag: "Operators",
		responses: {
			200: ok(
				"One entry per day.",
				z.object({
					days: z.array(
						z.object({
							date: z.string().meta({ format: "date" }),
							signups: z.number().int(),
							licenses_created: z.number().int(),
							licenses_activated: z.number().int(),
							activation_rate: z.number().nullable(),
							checkouts_started: z.number().int(),
							checkouts_completed: z.number().int(),
							success_rate: z.number().nullable(),
						}) satisfies z.ZodType<LaunchDay>,
					),
				}),
			),
		},
	},
	...consoleOperations(),
	"POST /api/v1/billing/checkout": {
		summary: "Open a Stripe Checkout session",
		tag: "Billing",
		responses: {
			200: ok("Where to send the user.", z.object({ url: z.string(), session_id: z.string() })),
		},
		errors: ["BILLING_NOT_CONFIGURED", "BAD_GATEWAY"],
	},
	"POST /api/v1/billing/portal": {
		summary: "Open the Stripe Customer Portal",
		tag: "Billing",
		responses: { 200: ok("Where to send the user.", z.object({ url: z.string() })) },
		errors: ["BILLING_NOT_CONFIGURED", "NOT_FOUND", "BAD_GATEWAY"],
	},
	"GET /billing/success": {
		summary: "Checkout's return page",
		tag: "Billing",
		responses: { 200: ok("What to run next.", "html") },
	},
	"GET /billing/cancel": {
		summary: "Checkout's cancel page",
		tag: "Billing",
		responses: { 200: ok("What to run next.", "html") },
	},
	"POST /webhooks/stripe": {
		summary: "Stripe events",
		description:
			"Applied exactly once (deduplicated by event id) and order-independently. Unknown event types answer 200 and are ignored; a database failure answers 5xx so Stripe retries.",
		tag: "Webhooks",
		requestBody: {
			contentType: "application/json",
			description: "The raw event as Stripe sent it; the signature covers these exact bytes.",
		},
		headers: [
			{ name: "Stripe-Signature", description: "Stripe's signature header.", required: true },
		],
		responses: {
			200: ok(
				"Received.",
				z.object({
					received: z.literal(true),
					outcome: z.enum(["applied", "duplicate", "ignored"]),
				}),
			),
		},
		errors: ["INVALID_REQUEST", "PAYLOAD_TOO_LARGE", "BILLING_NOT_CONFIGURED"],
	},
};

const ApiKey = z
	.object({
		id: z.string().describe("`cik_…`"),
		name: z.string(),
		key_last4: z.string().describe("The key is shown in full only when it is created."),
		created_at: isoTime,
		last_used_at: isoTime.nullable().describe("Updated at most once a minute."),
		revoked_at: isoTime.nullable(),
	})
	.register(components, { id: "OrgApiKey" }) satisfies z.ZodType<ApiKeyView>;

const TrustRule = z
	.object({
		id: z.string().describe("`ctr_…`"),
		name: z.string(),
		issuer: z
			.string()
			.describe("The CI provider's OIDC issuer, e.g. https://token.actions.githubusercontent.com."),
		audience: z
			.string()
			.describe("The `aud` tokens must carry; defaults to this server's public URL."),
		conditions: z
			.record(z.string(), z.string())
			.describe("Claim → exact value or `*` glob, all of which must hold (at least one exact)."),
		created_at: isoTime,
		revoked_at: isoTime.nullable(),
	})
	.register(components, { id: "CiTrustRule" }) satisfies z.ZodType<TrustRuleView>;

const Lease = z
	.object({
		lease_id: z.string().describe("`cil_…`"),
		org_id: z.string(),
		job_id: z.string(),
		token: z
			.string()
			.describe(
				'Compact JWS, Ed25519 with the license-token key: header `{"alg":"EdDSA","typ":"coditect-ci+jwt","kid"}`, claims `iss`, `aud` "coditect-ci", `sub` (license id), `jti`, `iat`, `nbf`, `exp` (= the lease\'s end, ≤ 1 h), `ci` {org, job, lease}, `lic` {plan, status, expires_at, entitlements}.',
			),
		expires_at: isoTime,
	})
	.register(components, { id: "CiLease" }) satisfies z.ZodType<LeaseView>;

const ciOperations: Record<string, OperationDoc> = {
	"POST /api/v1/orgs/{id}/api-keys": {
		summary: "Create an org API key for CI",
		description:
			"Owners and admins. The key (`cdt_ci_` + 256 random bits) is in this answer only; it is stored as a keyed hash.",
		tag: "CI",
		responses: {
			201: ok("The key, shown this once.", z.object({ api_key: ApiKey, key: z.string() })),
		},
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"GET /api/v1/orgs/{id}/api-keys": {
		summary: "The org's API keys",
		tag: "CI",
		responses: {
			200: ok("Keys, masked, revoked ones included.", z.object({ api_keys: z.array(ApiKey) })),
		},
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"DELETE /api/v1/orgs/{id}/api-keys/{key_id}": {
		summary: "Revoke an org API key",
		description: "Leases it granted run until they expire; no new ones. Idempotent.",
		tag: "CI",
		responses: { 204: ok("Revoked.") },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"POST /api/v1/orgs/{id}/ci-trust-rules": {
		summary: "Trust a CI provider's OIDC ID tokens",
		description:
			"Workload identity: jobs whose ID token comes from `issuer`, names `audience` and satisfies every condition may lease without a static secret.",
		tag: "CI",
		responses: { 201: ok("The rule.", z.object({ trust_rule: TrustRule })) },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"GET /api/v1/orgs/{id}/ci-trust-rules": {
		summary: "The org's CI trust rules",
		tag: "CI",
		responses: {
			200: ok("Rules, revoked ones included.", z.object({ trust_rules: z.array(TrustRule) })),
		},
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"DELETE /api/v1/orgs/{id}/ci-trust-rules/{rule_id}": {
		summary: "Revoke a CI trust rule",
		tag: "CI",
		responses: { 204: ok("Revoked.") },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"POST /api/v1/ci/leases": {
		summary: "Lease a CI runner slot",
		description:
			"Bearer org API key or trusted CI ID token. 201 with a new lease, or 200 with the job's live lease when `job_id` already holds one. Live leases never exceed the plan's `ci_runners`; over it → 409 `CI_CONCURRENCY_LIMIT` with `limit`, `active`, `next_free_at`. A lease ends at `expires_at` unless heartbeated.",
		tag: "CI",
		responses: { 201: ok("A new lease.", Lease), 200: ok("The job's live lease.", Lease) },
		errors: ["CI_CONCURRENCY_LIMIT", "FORBIDDEN", "EXPIRED", "SUSPENDED", "REVOKED", "BAD_GATEWAY"],
	},
	"POST /api/v1/ci/leases/{id}/heartbeat": {
		summary: "Extend a lease",
		description:
			"Bearer the lease token (or the org's API key / ID token). Extends by `ttl_s` (default 900) from now with a new token; an expired or released lease is a 404.",
		tag: "CI",
		responses: { 200: ok("The extended lease.", Lease) },
		errors: ["NOT_FOUND", "FORBIDDEN", "EXPIRED", "SUSPENDED", "REVOKED"],
	},
	"DELETE /api/v1/ci/leases/{id}": {
		summary: "Release a lease",
		description: "Frees the slot at once. Idempotent; an unknown or another org's lease is a 404.",
		tag: "CI",
		responses: { 204: ok("Released.") },
		errors: ["NOT_FOUND"],
	},
};
Object.assign(operations, ciOperations);

const SsoDomain = z
	.object({
		domain: z.string(),
		verified: z.boolean(),
		verified_at: isoTime.nullable(),
		verification: z
			.object({ type: z.literal("TXT"), name: z.string(), value: z.string() })
			.describe("Publish this TXT record, then call verify."),
	})
	.register(components, { id: "SsoDomain" }) satisfies z.ZodType<SsoDomainView>;

const SsoSettings = z
	.object({
		connection: z
			.object({
				issuer: z.string(),
				client_id: z.string(),
				client_secret_set: z.literal(true).describe("The secret itself is never returned."),
				password_login_disabled: z.boolean(),
				updated_at: isoTime,
			})
			.nullable(),
		domains: z.array(SsoDomain),
	})
	.register(components, { id: "SsoSettings" }) satisfies z.ZodType<SsoSettingsView>;

const ssoGate =
	" Owners and admins of orgs on SMB or Enterprise (the plan's `sso` feature); other plans → 403.";

const ssoOperations: Record<string, OperationDoc> = {
	"GET /api/v1/orgs/{id}/sso": {
		summary: "The org's SSO settings",
		description: `The OpenID provider (never its secret) and the domains with their TXT records.${ssoGate}`,
		tag: "Organisations",
		responses: { 200: ok("Settings.", SsoSettings) },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"PUT /api/v1/orgs/{id}/sso": {
		summary: "Connect the org's OpenID provider",
		description: `Creates or replaces issuer and client; the issuer's discovery document must be readable (else 400). \`client_secret\` is required the first time, stored encrypted and never returned. \`password_login_disabled\` refuses password and Google/GitHub login for the org's verified domains.${ssoGate}`,
		tag: "Organisations",
		responses: { 200: ok("Settings.", SsoSettings) },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"DELETE /api/v1/orgs/{id}/sso": {
		summary: "Remove the org's SSO",
		description: `Removes the provider and every domain.${ssoGate}`,
		tag: "Organisations",
		responses: { 204: ok("Removed.") },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"POST /api/v1/orgs/{id}/sso/domains": {
		summary: "Claim an email domain for SSO",
		description: `Answers the TXT record to publish; the domain routes logins only once verified. 409 when this org already claimed it.${ssoGate}`,
		tag: "Organisations",
		responses: { 201: ok("The claim.", SsoDomain) },
		errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT"],
	},
	"POST /api/v1/orgs/{id}/sso/domains/{domain}/verify": {
		summary: "Verify a domain by its TXT record",
		description: `Looks up \`_coditect.<domain>\` TXT \`coditect-verification=<token>\`. Missing record, or the domain verified by another org → 409; DNS failure → 502.${ssoGate}`,
		tag: "Organisations",
		responses: { 200: ok("The verified domain.", SsoDomain) },
		errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT", "BAD_GATEWAY"],
	},
	"DELETE /api/v1/orgs/{id}/sso/domains/{domain}": {
		summary: "Remove a domain",
		description: ssoGate.trim(),
		tag: "Organisations",
		responses: { 204: ok("Removed.") },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
};
Object.assign(operations, ssoOperations);

const WebhookEndpoint = z
	.object({
		id: z.string(),
		org_id: z
			.string()
			.nullable()
			.describe("null: an operator endpoint, which hears every org's events."),
		url: z.string(),
		events: z.array(z.string()).describe(`Event types it takes: ${WEBHOOK_EVENTS.join(", ")}.`),
		created_at: isoTime,
		disabled_at: isoTime.nullable(),
		previous_secret_expires_at: isoTime
			.nullable()
			.describe("During a rotation: until when the previous secret still signs."),
	})
	.register(components, { id: "WebhookEndpoint" }) satisfies z.ZodType<WebhookEndpointView>;

const WebhookEndpointWithSecret = z.object({
	endpoint: WebhookEndpoint,
	secret: z
		.string()
		.describe("`whsec_…`: shown this once, never again. Keep it to verify signatures."),
});

const WebhookDelivery = z
	.object({
		event_id: z.string().describe("The event's id; receivers deduplicate on it."),
		event_type: z.string(),
		attempts: z.number().int(),
		last_status: z
			.number()
			.int()
			.nullable()
			.describe("HTTP status of the last attempt; null = no answer."),
		last_error: z.string().nullable(),
		created_at: isoTime,
		next_attempt_at: isoTime,
		delivered_at: isoTime.nullable(),
		dead_at: isoTime.nullable().describe("Set when retries ran out."),
	})
	.register(components, { id: "WebhookDelivery" }) satisfies z.ZodType<WebhookDeliveryView>;

const hookGate = " Owners and admins; a plain member → 403, a non-member → 404.";

const orgWebhookOperations: Record<string, OperationDoc> = {
	"POST /api/v1/orgs/{id}/webhooks": {
		summary: "Register a webhook endpoint",
		description: `The URL must be https on a public address (private, loopback and metadata addresses → 400); \`events\` are known type names, at least one, no repeats. Answers the signing \`secret\` once. At most 20 live endpoints per org (409).${hookGate}`,
		tag: "Organisations",
		responses: { 201: ok("The endpoint and its secret.", WebhookEndpointWithSecret) },
		errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT"],
	},
	"GET /api/v1/orgs/{id}/webhooks": {
		summary: "The org's webhook endpoints",
		description: `Newest first, disabled ones included; never a secret.${hookGate}`,
		tag: "Organisations",
		responses: { 200: ok("Endpoints.", z.object({ endpoints: z.array(WebhookEndpoint) })) },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"DELETE /api/v1/orgs/{id}/webhooks/{wid}": {
		summary: "Disable a webhook endpoint",
		description: `It gets no new events; its delivery history stays readable. Idempotent.${hookGate}`,
		tag: "Organisations",
		responses: { 204: ok("Disabled.") },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
	"POST /api/v1/orgs/{id}/webhooks/{wid}/rotate-secret": {
		summary: "Rotate an endpoint's secret",
		description: `Answers the new secret once. The old one keeps signing alongside it for 24 hours (one \`v1\` each), so receivers can switch without a gap. A disabled endpoint → 409.${hookGate}`,
		tag: "Organisations",
		responses: { 200: ok("The endpoint and its new secret.", WebhookEndpointWithSecret) },
		errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT"],
	},
	"GET /api/v1/orgs/{id}/webhooks/{wid}/deliveries": {
		summary: "Recent deliveries to an endpoint",
		description: `Newest first, up to \`limit\` (≤ 100); state of each attempt, never the payload.${hookGate}`,
		tag: "Organisations",
		responses: { 200: ok("Deliveries.", z.object({ deliveries: z.array(WebhookDelivery) })) },
		errors: ["NOT_FOUND", "FORBIDDEN"],
	},
};
Object.assign(operations, orgWebhookOperations);

const operatorHook =
	" Operator endpoints (no org) hear every event of every org and those outside any org (single-user licenses). Another org's endpoint id → 404.";

const operatorWebhookOperations: Record<string, OperationDoc> = {
	"POST /api/v1/admin/webhooks": {
		summary: "Register an operator webhook endpoint",
		description: `As for an org's (https on a public address, known event types, secret answered once, at most 20 live), audited with \`actor: operator\`.${operatorHook}`,
		tag: "Operators",
		responses: { 201: ok("The endpoint and its secret.", WebhookEndpointWithSecret) },
		errors: ["CONFLICT"],
	},
	"GET /api/v1/admin/webhooks": {
		summary: "The operator's webhook endpoints",
		description: `Newest first, disabled ones included; never a secret; org endpoints are not listed here.${operatorHook}`,
		tag: "Operators",
		responses: { 200: ok("Endpoints.", z.object({ endpoints: z.array(WebhookEndpoint) })) },
	},
	"DELETE /api/v1/admin/webhooks/{wid}": {
		summary: "Disable an operator webhook endpoint",
		description: `It gets no new events; its delivery history stays readable. Idempotent.${operatorHook}`,
		tag: "Operators",
		responses: { 204: ok("Disabled.") },
		errors: ["NOT_FOUND"],
	},
	"POST /api/v1/admin/webhooks/{wid}/rotate-secret": {
		summary: "Rotate an operator endpoint's secret",
		description: `Answers the new secret once; the old one keeps signing for 24 hours. A disabled endpoint → 409.${operatorHook}`,
		tag: "Operators",
		responses: { 200: ok("The endpoint and its new secret.", WebhookEndpointWithSecret) },
		errors: ["NOT_FOUND", "CONFLICT"],
	},
	"GET /api/v1/admin/webhooks/{wid}/deliveries": {
		summary: "Recent deliveries to an operator endpoint",
		description: `Newest first, up to \`limit\` (≤ 100); never the payload.${operatorHook}`,
		tag: "Operators",
		responses: { 200: ok("Deliveries.", z.object({ deliveries: z.array(WebhookDelivery) })) },
		errors: ["NOT_FOUND"],
	},
};
Object.assign(operations, operatorWebhookOperations);

/** The seed's paths (SPEC §3), same handlers; documented as deprecated copies. */

/** The seed's paths (docs/api.md §3), same handlers; documented as deprecated copies. */
export const aliases: Record<string, string> = {
	"POST /auth/signup": "POST /api/v1/auth/signup",
	"POST /auth/login": "POST /api/v1/auth/login",
	"POST /api/v1/auth/oauth/refresh": "POST /api/v1/auth/refresh",
	"POST /licenses/validate": "POST /api/v1/licenses/validate",
	"POST /licenses/activate": "POST /api/v1/licenses/activate",
	"POST /licenses/deactivate": "POST /api/v1/licenses/deactivate",
	"POST /billing/checkout": "POST /api/v1/billing/checkout",
	"POST /billing/portal": "POST /api/v1/billing/portal",
};

/**
 * The operator console's pages (src/routes/console.tsx): HTML for a person, so they are listed
 * for completeness rather than for clients. Without a session a page answers 303 to /admin; a
 * form POST without the session's CSRF token, or from another site, 403. Errors are the usual
 * error body, or an HTML page for a browser (Accept: text/html).
 */
function consoleOperations(): Record<string, OperationDoc> {
	const tag: Tag = "Console";
	const page = (summary: string, description: string, query = false): OperationDoc => ({
		summary,
		description,
		tag,
		responses: {
			200: ok("The page.", "html"),
			303: ok("No console session: to the sign-in page (/admin)."),
		},
		...(query ? { errors: ["INVALID_REQUEST"] satisfies ErrorCode[] } : {}),
	});
	const form = (fields: string) => ({
		contentType: "application/x-www-form-urlencoded",
		description: `${fields}; and \`csrf\`, the session's token from the page's form.`,
	});
	const formErrors: ErrorCode[] = [
		"INVALID_REQUEST",
		"PAYLOAD_TOO_LARGE",
		"UNSUPPORTED_MEDIA_TYPE",
	];
	return {
		"GET /admin": {
			summary: "Console sign-in page",
			description: "A form for the ADMIN token; with a live session, a redirect to the dashboard.",
			tag,
			responses: {
				200: ok("The sign-in page.", "html"),
				303: ok("Already signed in: to /admin/dashboard."),
			},
			errors: ["NOT_FOUND"],
		},
		"GET /admin/console.css": {
			summary: "The console's stylesheet",
			tag,
			responses: { 200: ok("CSS.", "css") },
			errors: ["NOT_FOUND"],
		},
		"POST /admin/login": {
			summary: "Exchange the ADMIN token for a console session",
			description:
				"Compared in constant time and audited (`admin_login`, `success` or `wrong_token`). Success sets the `coditect_admin` cookie (30 minutes, HttpOnly, SameSite=Strict, Path=/admin, Secure on an https PUBLIC_URL; signed, never the token) and redirects to the dashboard; a wrong token answers 401 with the sign-in page again.",
			tag,
			requestBody: {
				contentType: "application/x-www-form-urlencoded",
				description: "`token`: the ADMIN token.",
			},
			responses: {
				303: ok("Signed in: to /admin/dashboard, with the session cookie."),
				401: ok("Not this server's token: the sign-in page with the reason.", "html"),
			},
			errors: ["FORBIDDEN", "NOT_FOUND", ...formErrors],
		},
		"POST /admin/logout": {
			summary: "End the console session",
			description: "Clears the cookie; audited as `admin_logout`.",
			tag,
			requestBody: form("No other field"),
			responses: { 303: ok("To the sign-in page.") },
			errors: formErrors,
		},
		"GET /admin/dashboard": page(
			"Console: launch dashboard",
			"The figures of GET /api/v1/admin/metrics and, as inline SVG charts, signups, activation rate and payment success per day for the last 30 days.",
		),
		"GET /admin/licenses": page(
			"Console: license search",
			"The filters of GET /api/v1/admin/licenses (empty fields mean any), keyset-paged.",
			true,
		),
		"GET /admin/licenses/{id}": {
			...page(
				"Console: a license",
				"Its facts, the edit form, its activations and its latest audit rows.",
				true,
			),
			errors: ["INVALID_REQUEST", "LICENSE_NOT_FOUND"],
		},
		"POST /admin/licenses/{id}": {
			summary: "Console: edit a license",
			description:
				"The fields of PATCH /api/v1/admin/licenses/{id}, through the same service, so audited as `license_update`; an empty expiry means perpetual, an empty owner unowned.",
			tag,
			requestBody: form("`plan`, `max_activations`, `expires_at`, `owner_email`"),
			responses: { 303: ok("Saved: to the license's page.") },
			errors: [...formErrors, "LICENSE_NOT_FOUND", "CONFLICT"],
		},
		"POST /admin/licenses/{id}/{action}": {
			summary: "Console: suspend, reinstate or revoke a license",
			description:
				"The service of POST /api/v1/admin/licenses/{id}/{action}, audited `license_status_change`; a revoked license cannot be reinstated (409).",
			tag,
			requestBody: form("No other field"),
			responses: { 303: ok("Done: to the license's page.") },
			errors: [...formErrors, "LICENSE_NOT_FOUND", "CONFLICT"],
		},
		"GET /admin/users": page("Console: users", "The filters of GET /api/v1/admin/users.", true),
		"GET /admin/orgs": page(
			"Console: organisations",
			"The filters of GET /api/v1/admin/orgs.",
			true,
		),
		"GET /admin/activations": page(
			"Console: activations",
			"The filters of GET /api/v1/admin/activations.",
			true,
		),
		"GET /admin/audit": page(
			"Console: audit log",
			"The filters and paging of GET /api/v1/admin/audit; secrets masked as there.",
			true,
		),
		"GET /admin/invites": page(
			"Console: invite batches",
			"The batches of GET /api/v1/admin/invites and a form to make one.",
			true,
		),
		"POST /admin/invites": {
			summary: "Console: make an invite batch",
			description:
				"As POST /api/v1/admin/invites (audited `invites_created`); the page shows the new codes this once.",
			tag,
			requestBody: form("`count` (1–100), `label` (optional)"),
			responses: { 201: ok("The invites page with the new codes.", "html") },
			errors: formErrors,
		},
		"GET /admin/invites/{id}": {
			...page("Console: an invite batch", "Who used which code, by the code's last 4 characters."),
			errors: ["NOT_FOUND"],
		},
	};
}
