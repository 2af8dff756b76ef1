/**
 * The relational model. Ids are prefixed text (`lic_…`, `act_…`) so a value seen in a log
 * says what it is; timestamps are `timestamptz` and always UTC on the wire.
 */
import { sql } from "drizzle-orm";
import {
	boolean,
	check,
	index,
	integer,
	jsonb,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uniqueIndex,
	uuid,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const tstz = (name: string) => timestamp(name, { withTimezone: true });

/**
 * What a plan grants: the API's `entitlements` object. A license token carries only `features`,
 * as its `lic.entitlements` claim (`TokenEntitlements` in src/kernel/token/claims.ts).
 */
export interface PlanEntitlements {
	/** Machines each seat may activate. */
	activations_per_seat: number;
	seats: number;
	ci_runners: number;
	features: string[];
}

export const plans = pgTable("plans", {
	/** Stable slug used in the API and in Stripe metadata (`starter`, `team`, …). */
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	entitlements: jsonb("entitlements").$type<PlanEntitlements>().notNull(),
	/** Monthly price in USD cents, for display; Stripe's price (found by lookup key) is what is charged. */
	monthlyPriceCents: integer("monthly_price_cents").notNull(),
	annualPriceCents: integer("annual_price_cents").notNull(),
	stripeLookupKeyMonthly: text("stripe_lookup_key_monthly"),
	stripeLookupKeyAnnual: text("stripe_lookup_key_annual"),
	/** Pilot plans can be bought now; the rest are listed but sold later. */
	purchasable: boolean("purchasable").notNull().default(false),
	createdAt: createdAt(),
});

export const users = pgTable(
	"users",
	{
		id: text("id").primaryKey(),
		/** Stored lower-cased; one account per email is enforced by the unique index. */
		email: text("email").notNull(),
		/** PHC string (`$argon2id$v=19$m=…`), null for OAuth-only accounts. */
		passwordHash: text("password_hash"),
		emailVerifiedAt: tstz("email_verified_at"),
		oauthProvider: text("oauth_provider"),
		oauthProviderId: text("oauth_provider_id"),
		stripeCustomerId: text("stripe_customer_id"),
		/** Consecutive failed logins since the last success; drives lockout. */
		failedLogins: integer("failed_logins").notNull().default(0),
		lockedUntil: tstz("locked_until"),
		createdAt: createdAt(),
	},
	(t) => [
		uniqueIndex("users_email_key").on(t.email),
		uniqueIndex("users_oauth_key").on(t.oauthProvider, t.oauthProviderId),
		uniqueIndex("users_stripe_customer_key").on(t.stripeCustomerId),
		// The operator's list pages newest first on (created_at, id).
		index("users_created_idx").on(t.createdAt, t.id),
	],
);

export const LICENSE_STATUSES = ["active", "past_due", "suspended", "expired", "revoked"] as const;
export type LicenseStatus = (typeof LICENSE_STATUSES)[number];

export const licenses = pgTable(
	"licenses",
	{
		id: text("id").primaryKey(),
		/** HMAC-SHA-256 of the canonical key under LICENSE_KEY_PEPPER: a dump alone reveals no key. */
		keyHash: text("key_hash").notNull(),
		/** Last 4 characters, for display (`…-XXXX`). */
		keyLast4: text("key_last4").notNull(),
		planId: text("plan_id")
			.notNull()
			.references(() => plans.id),
		ownerId: text("owner_id").references(() => users.id),
		/** Team / SMB / Enterprise: the organisation whose members hold its seats. */
		orgId: text("org_id").references(() => orgs.id),
		/**
		 * Named seats bought (Stripe subscription quantity, or set by the operator); null = the
		 * plan's `seats`. Read it through `seatsOf()`, never directly.
		 */
		seats: integer("seats"),
		/** Granted to an email with no account yet; the account that verifies it claims the license. */
		ownerEmail: text("owner_email"),
		status: text("status").$type<LicenseStatus>().notNull().default("active"),
		maxActivations: integer("max_activations").notNull(),
		/** End of the paid (or granted) period; null = perpetual (comp licenses). */
		expiresAt: tstz("expires_at"),
		/** End of the payment grace while `past_due`. */
		graceUntil: tstz("grace_until"),
		stripeSubscriptionId: text("stripe_subscription_id"),
		stripeCustomerId: text("stripe_customer_id"),
		/** The subscription's Stripe status as last reconciled (`active`, `past_due`, …), for support. */
		stripeStatus: text("stripe_status"),
		/**
		 * Stripe disputes still open against this license's payments; while any is, the license is
		 * suspended. A set, not one id, so disputes settling in any order leave the same answer.
		 */
		stripeOpenDisputes: text("stripe_open_disputes").array().notNull().default(sql`'{}'::text[]`),
		/** Where the license came from: `stripe`, `admin`, … */
		source: text("source").notNull().default("admin"),
		createdAt: createdAt(),
		updatedAt: tstz("updated_at").notNull().defaultNow(),
	},
	(t) => [
		uniqueIndex("licenses_key_hash_key").on(t.keyHash),
		// One license per subscription, whatever Stripe redelivers.
		uniqueIndex("licenses_stripe_subscription_key").on(t.stripeSubscriptionId),
		index("licenses_owner_idx").on(t.ownerId),
		index("licenses_org_idx").on(t.orgId),
		// The operator's search: newest first, by key last 4, by Stripe customer.
		index("licenses_created_idx").on(t.createdAt, t.id),
		index("licenses_key_last4_idx").on(t.keyLast4),
		index("licenses_stripe_customer_idx").on(t.stripeCustomerId),
		check(
			"licenses_status_check",
			sql`${t.status} in ('active','past_due','suspended','expired','revoked')`,
		),
		check("licenses_max_activations_check", sql`${t.maxActivations} between 0 and 100000`),
		check("licenses_seats_check", sql`${t.seats} is null or ${t.seats} between 0 and 100000`),
	],
);

export const activations = pgTable(
	"activations",
	{
		id: text("id").primaryKey(),
		licenseId: text("license_id")
			.notNull()
			.references(() => licenses.id, { onDelete: "cascade" }),
		/** The client's hashed hardware fingerprint (64 hex chars from the CLI). */
		hardwareId: text("hardware_id").notNull(),
		hostname: text("hostname"),
		platform: text("platform"),
		/** On an org license: the seat (membership) this machine is counted against. */
		memberId: text("member_id").references(() => orgMembers.id, { onDelete: "set null" }),
		createdAt: createdAt(),
		lastValidatedAt: tstz("last_validated_at"),
		/** Set when the seat is freed; the row stays for history. */
		deactivatedAt: tstz("deactivated_at"),
		/**
		 * Air-gapped machines (docs/offline-activation.md): the nonce of the request the current
		 * offline token answers, and the machine's Ed25519 public key (base64url `x`) that signs
		 * its release receipt. Both null for a machine that activated online.
		 */
		offlineNonce: text("offline_nonce"),
		machineKey: text("machine_key"),
	},
	(t) => [
		// At most one *active* activation per license + machine: re-activation is idempotent.
		uniqueIndex("activations_active_hw_key")
			.on(t.licenseId, t.hardwareId)
			.where(sql`${t.deactivatedAt} is null`),
		index("activations_member_idx").on(t.memberId),
		index("activations_created_idx").on(t.createdAt, t.id),
	],
);

/** An organisation: the holder of a Team / SMB / Enterprise license and its named seats. */
export const orgs = pgTable("orgs", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	createdAt: createdAt(),
});

export const ORG_ROLES = ["owner", "admin", "member"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** A member of an org holds one named seat; the row's id is the seat id in tokens. */
export const orgMembers = pgTable(
	"org_members",
	{
		id: text("id").primaryKey(),
		orgId: text("org_id")
			.notNull()
			.references(() => orgs.id, { onDelete: "cascade" }),
		userId: text("user_id")
			.notNull()
			.references(() => users.id, { onDelete: "cascade" }),
		role: text("role").$type<OrgRole>().notNull(),
		createdAt: createdAt(),
	},
	(t) => [
		uniqueIndex("org_members_org_user_key").on(t.orgId, t.userId),
		index("org_members_user_idx").on(t.userId),
		check("org_members_role_check", sql`${t.role} in ('owner','admin','member')`),
	],
);

/** Emailed single-use invitation codes; only the hash is stored. */
export const orgInvitations = pgTable(
	"org_invitations",
	{
		id: text("id").primaryKey(),
		orgId: text("org_id")
			.notNull()
			.references(() => orgs.id, { onDelete: "cascade" }),
		email: text("email").notNull(),
		role: text("role").$type<OrgRole>().notNull(),
		codeHash: text("code_hash").notNull(),
		invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
		expiresAt: tstz("expires_at").notNull(),
		usedAt: tstz("used_at"),
		usedBy: text("used_by").references(() => users.id, { onDelete: "set null" }),
		createdAt: createdAt(),
	},
	(t) => [
		uniqueIndex("org_invitations_code_key").on(t.codeHash),
		index("org_invitations_org_idx").on(t.orgId),
		check("org_invitations_role_check", sql`${t.role} in ('admin','member')`),
	],
);

/** Org API keys for CI (`cdt_ci_…`), stored as a keyed hash; shown once. */
export const orgApiKeys = pgTable(
	"org_api_keys",
	{
		id: text("id").primaryKey(),
		orgId: text("org_id")
			.notNull()
			.references(() => orgs.id, { onDelete: "cascade" }),
		name: text("name").notNull(),
		keyHash: text("key_hash").notNull(),
		keyLast4: text("key_last4").notNull(),
		createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
		createdAt: createdAt(),
		lastUsedAt: tstz("last_used_at"),
		revokedAt: tstz("revoked_at"),
	},
	(t) => [
		uniqueIndex("org_api_keys_hash_key").on(t.keyHash),
		index("org_api_keys_org_idx").on(t.orgId),
	],
);

/**
 * Workload identity: a CI provider's OIDC ID tokens that match `issuer`, `audience` and every
 * condition (claim → exact value or `*` glob) may lease a runner slot without a static secret.
 */
export const ciTrustRules = pgTable(
	"ci_trust_rules",
	{
		id: text("id").primaryKey(),
		orgId: text("org_id")
			.notNull()
			.references(() => orgs.id, { onDelete: "cascade" }),
		name: text("name").notNull(),
		issuer: text("issuer").notNull(),
		audience: text("audience").notNull(),
		conditions: jsonb("conditions").$type<Record<string, string>>().notNull(),
		createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
		createdAt: createdAt(),
		revokedAt: tstz("revoked_at"),
	},
	(t) => [index("ci_trust_rules_org_idx").on(t.orgId)],
);

/**
 * A CI job's hold on one of the plan's runner slots. A slot is taken while `expires_at` is
 * ahead and `released_at` is null: a runner that dies frees its slot by expiring, no cron.
 */
export const ciLeases = pgTable(
	"ci_leases",
	{
		id: text("id").primaryKey(),
		orgId: text("org_id")
			.notNull()
			.references(() => orgs.id, { onDelete: "cascade" }),
		licenseId: text("license_id")
			.notNull()
			.references(() => licenses.id, { onDelete: "cascade" }),
		jobId: text("job_id").notNull(),
		runner: text("runner"),
		/** `api_key:<id>` or `oidc:<rule id>`: what the job proved. */
		grantedBy: text("granted_by").notNull(),
		createdAt: createdAt(),
		expiresAt: tstz("expires_at").notNull(),
		releasedAt: tstz("released_at"),
	},
	(t) => [
		index("ci_leases_org_job_idx").on(t.orgId, t.jobId),
		index("ci_leases_org_expires_idx").on(t.orgId, t.expiresAt),
	],
);

export const auditLogs = pgTable(
	"audit_logs",
	{
		id: text("id").primaryKey(),
		at: tstz("at").notNull().defaultNow(),
		action: text("action").notNull(),
		/** `success`, `failure`, `denied`, or a validation code. */
		result: text("result").notNull(),
		userId: text("user_id"),
		licenseId: text("license_id"),
		ip: text("ip"),
		userAgent: text("user_agent"),
		/** Small structured context; never secrets. */
		detail: jsonb("detail").$type<Record<string, unknown>>(),
	},
	(t) => [
		index("audit_logs_at_idx").on(t.at),
		index("audit_logs_license_idx").on(t.licenseId),
		index("audit_logs_user_idx").on(t.userId),
	],
);

export const stripeEvents = pgTable("stripe_events", {
	/** Stripe's event id: recorded in the same transaction as the change the event makes. */
	id: text("id").primaryKey(),
	type: text("type").notNull(),
	/** Stripe's `created` of the event, to order changes without trusting arrival order. */
	eventCreatedAt: tstz("event_created_at").notNull(),
	processedAt: tstz("processed_at").notNull().defaultNow(),
});

export const refreshTokens = pgTable(
	"refresh_tokens",
	{
		id: text("id").primaryKey(),
		userId: text("user_id")
			.notNull()
			.references(() => users.id, { onDelete: "cascade" }),
		/** All tokens descending from one login share a family; reuse revokes the family. */
		familyId: text("family_id").notNull(),
		tokenHash: text("token_hash").notNull(),
		/** Set when rotated; a second use after this is a replay. */
		usedAt: tstz("used_at"),
		revokedAt: tstz("revoked_at"),
		/** Absolute end of the family (90 days from login), copied to each rotation. */
		expiresAt: tstz("expires_at").notNull(),
		createdAt: createdAt(),
	},
	(t) => [
		uniqueIndex("refresh_tokens_hash_key").on(t.tokenHash),
		index("refresh_tokens_family_idx").on(t.familyId),
	],
);

/** One operator request for invites: the codes handed out together, under an optional label. */
export const inviteBatches = pgTable(
	"invite_batches",
	{
		id: text("id").primaryKey(),
		label: text("label"),
		createdAt: createdAt(),
	},
	(t) => [index("invite_batches_created_idx").on(t.createdAt, t.id)],
);

export const invites = pgTable(
	"invites",
	{
		/** Hash of the invite code; the code itself is shown once to the operator. */
		codeHash: text("code_hash").primaryKey(),
		/** Null for codes made before batches existed. */
		batchId: text("batch_id").references(() => inviteBatches.id, { onDelete: "cascade" }),
		/** The code's last 4 characters, so an operator can tell codes apart without the code. */
		codeLast4: text("code_last4"),
		usedBy: text("used_by").references(() => users.id),
		usedAt: tstz("used_at"),
		createdAt: createdAt(),
	},
	(t) => [index("invites_batch_idx").on(t.batchId)],
);

export const verificationCodes = pgTable(
	"verification_codes",
	{
		email: text("email").notNull(),
		purpose: text("purpose").notNull(),
		codeHash: text("code_hash").notNull(),
		attempts: integer("attempts").notNull().default(0),
		expiresAt: tstz("expires_at").notNull(),
		/**
		 * Signup: the PHC hash of the password chosen with this code. The account is created
		 * only when the code is verified, so an unverified email never has a users row.
		 */
		passwordHash: text("password_hash"),
		/** Signup during the pilot: the invite, consumed when the code is verified. */
		inviteCodeHash: text("invite_code_hash"),
		createdAt: createdAt(),
	},
	// One row per code sent, not per address: a second signup for the same address adds a code
	// bound to its own password instead of replacing the first (which would let whoever signs
	// up last choose the password of the account the address's owner then verifies).
	(t) => [primaryKey({ columns: [t.email, t.purpose, t.codeHash] })],
);

/**
 * Sign-in identities at Google / GitHub, by the provider's stable user id. A user may link
 * both; `users.oauth_provider(_id)` keeps the first link for display and reporting.
 */
export const oauthAccounts = pgTable(
	"oauth_accounts",
	{
		provider: text("provider").notNull(),
		providerId: text("provider_id").notNull(),
		userId: text("user_id")
			.notNull()
			.references(() => users.id, { onDelete: "cascade" }),
		createdAt: createdAt(),
	},
	(t) => [
		primaryKey({ columns: [t.provider, t.providerId] }),
		index("oauth_accounts_user_idx").on(t.userId),
	],
);

/**
 * An org's own OpenID Connect provider (SMB and Enterprise). The client secret is stored
 * encrypted (AES-GCM, src/sso/secret-box.ts) and never returned by the API.
 */
export const orgSsoConnections = pgTable("org_sso_connections", {
	orgId: text("org_id")
		.primaryKey()
		.references(() => orgs.id, { onDelete: "cascade" }),
	issuer: text("issuer").notNull(),
	clientId: text("client_id").notNull(),
	clientSecretEnc: text("client_secret_enc").notNull(),
	/** Members of the org's verified domains may then sign in only through the provider. */
	passwordLoginDisabled: boolean("password_login_disabled").notNull().default(false),
	createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
	createdAt: createdAt(),
	updatedAt: tstz("updated_at").notNull().defaultNow(),
});

/**
 * Email domains an org claims for SSO. A claim routes logins only once verified (a DNS TXT
 * record `coditect-verification=<token>`); many orgs may claim, one may hold it verified.
 */
export const orgSsoDomains = pgTable(
	"org_sso_domains",
	{
		orgId: text("org_id")
			.notNull()
			.references(() => orgs.id, { onDelete: "cascade" }),
		domain: text("domain").notNull(),
		verificationToken: text("verification_token").notNull(),
		verifiedAt: tstz("verified_at"),
		createdAt: createdAt(),
	},
	(t) => [
		primaryKey({ columns: [t.orgId, t.domain] }),
		uniqueIndex("org_sso_domains_verified_key")
			.on(t.domain)
			.where(sql`${t.verifiedAt} is not null`),
	],
);

/**
 * Where signed event notifications go (src/webhooks). `org_id` null is an operator endpoint,
 * which hears every org's events. Two secrets so a rotation has an overlap: while
 * `previous_expires_at` is ahead, deliveries carry a v1 signature under each.
 * The secrets are kept as-is, not hashed: signing needs the key itself.
 */
export const webhookEndpoints = pgTable(
	"webhook_endpoints",
	{
		id: text("id").primaryKey(),
		orgId: text("org_id").references(() => orgs.id, { onDelete: "cascade" }),
		url: text("url").notNull(),
		/** Event types this endpoint takes (`license.created`, …). */
		events: text("events").array().notNull(),
		secretCurrent: text("secret_current").notNull(),
		secretPrevious: text("secret_previous"),
		previousExpiresAt: tstz("previous_expires_at"),
		createdAt: createdAt(),
		disabledAt: tstz("disabled_at"),
	},
	(t) => [index("webhook_endpoints_org_idx").on(t.orgId)],
);

/**
 * One event for one endpoint, written in the transaction of the change it reports (so an event
 * exists exactly when its change committed) and delivered later by src/webhooks/deliver.ts.
 * `event_id` is shared by every endpoint's copy: receivers deduplicate on it.
 */
export const webhookOutbox = pgTable(
	"webhook_outbox",
	{
		eventId: uuid("event_id").notNull(),
		endpointId: text("endpoint_id")
			.notNull()
			.references(() => webhookEndpoints.id, { onDelete: "cascade" }),
		eventType: text("event_type").notNull(),
		payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
		attempts: integer("attempts").notNull().default(0),
		nextAttemptAt: tstz("next_attempt_at").notNull().defaultNow(),
		createdAt: createdAt(),
		deliveredAt: tstz("delivered_at"),
		deadAt: tstz("dead_at"),
		/** HTTP status of the last attempt; null when it got no answer (timeout, refused). */
		lastStatus: integer("last_status"),
		lastError: text("last_error"),
	},
	(t) => [
		primaryKey({ columns: [t.eventId, t.endpointId] }),
		index("webhook_outbox_due_idx")
			.on(t.nextAttemptAt)
			.where(sql`${t.deliveredAt} is null and ${t.deadAt} is null`),
	],
);

/**
 * When an event of a throttled type (`ci.lease_limit_reached`) was last queued for an org:
 * src/webhooks/outbox.ts `enqueueThrottled` queues another only once the window has passed.
 */
export const webhookEventThrottle = pgTable(
	"webhook_event_throttle",
	{
		orgId: text("org_id")
			.notNull()
			.references(() => orgs.id, { onDelete: "cascade" }),
		eventType: text("event_type").notNull(),
		lastAt: tstz("last_at").notNull(),
	},
	(t) => [primaryKey({ columns: [t.orgId, t.eventType] })],
);
