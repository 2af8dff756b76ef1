/**
 * The account surface (docs/api.md §3.2): signup → verify, login with lockout, rotating refresh
 * tokens, logout, OAuth sign-in and operator invites. No Hono types: routes pass validated
 * input and turn results (or ApiErrors) into JSON.
 */
import { and, eq, gte, isNull, sql } from "drizzle-orm";
import { type RequestMeta, recordAudit } from "../audit/log";
import type { Config } from "../config";
import type { Database, Queryable } from "../db/client";
import {
	inviteBatches,
	invites,
	oauthAccounts,
	refreshTokens,
	users,
	verificationCodes,
} from "../db/schema";
import { ApiError, apiError } from "../errors";
import { newId } from "../ids";
import { hmacHex, toHex } from "../keyed-hash";
import type { Licenses, LicenseView } from "../licenses/index";
import { refusePasswordIfSsoOnly } from "../sso/policy";
import { type Mailer, mails } from "./mailer";
import { type CallbackInput, exchangeCode, listProviders, type ProviderInfo } from "./oauth";
import { constantTimeEqual, type PasswordHasher } from "./password";
import {
	hashRefreshToken,
	isRefreshTokenFormat,
	issueSession,
	revokeFamilies,
	type SessionUser,
	type SessionView,
} from "./sessions";

export const VERIFICATION_TTL_MINUTES = 15;
export const VERIFICATION_MAX_ATTEMPTS = 5;
/** Signup codes kept per address: the newest ones; older ones are deleted. */
export const MAX_PENDING_CODES = 3;
export const LOCKOUT_THRESHOLD = 5;
export const LOCKOUT_MINUTES = 15;

export interface AccountServiceDeps {
	db: Database;
	config: Config;
	meta: RequestMeta;
	passwords: PasswordHasher;
	mailer: Mailer;
	/** Addresses that become accounts claim the licenses granted to them. */
	licenses: Licenses;
	defer: (work: Promise<unknown>) => void;
}

export interface SignupInput {
	email: string;
	password: string;
	invite_code?: string | undefined;
}

/** POST /api/v1/admin/invites: the only answer that ever holds the codes. */
export interface CreatedInviteBatch {
	batch_id: string;
	label: string | null;
	codes: string[];
}

export type AccountService = ReturnType<typeof accountService>;

/** One message for every login failure, so the body never says which check failed. */
const invalidCredentials = (): ApiError => apiError("INVALID_CREDENTIALS");
/**
 * The OAuth door's refusal: the CLI shows this message as it is, so it names the flag; the
 * provider already proved who the caller is, so saying "no account yet" leaks nothing.
 */
const oauthInviteRequired = (provider: string): ApiError =>
	apiError(
		"INVITE_REQUIRED",
		`There is no CODITECT account for this ${provider} login yet, and new accounts need an invite code during the pilot. Sign in again with the code (coditect login --provider ${provider} --invite CODE), or log in to your existing account.`,
	);
const invalidRefresh = (): ApiError =>
	apiError("UNAUTHORIZED", "The refresh token is invalid, expired or revoked. Log in again.");

export function accountService(deps: AccountServiceDeps) {
	const { db, config, meta, passwords, mailer } = deps;
	const pilotOpen = config.settings.ENABLE_PILOT_SIGNUP === "true";

	/** Mail goes out after the response: same latency for new and existing addresses. */
	function sendLater(to: string, mail: { subject: string; text: string }): void {
		deps.defer(mailer.send({ to, ...mail }));
	}

	async function codeHash(email: string, code: string): Promise<string> {
		return hmacHex(config.pepper, `verification-code\u0000${email}\u0000${code}`);
	}

	const addressTag = (email: string) => signupAddressTag(config.pepper, email);

	/**
	 * The password login door for a domain whose org signs in only through its provider: the
	 * same 403 for every address of the domain, account or not, before any password check (no
	 * Argon2 is spent, no failure counted toward a lockout); the refusal is audited.
	 */
	async function refuseSsoOnly(email: string): Promise<void> {
		try {
			await refusePasswordIfSsoOnly(db, email);
		} catch (err) {
			await recordAudit(db, meta, { action: "failed_login", result: "sso_required" });
			throw err;
		}
	}

	return {
		/**
		 * Always 202 for a well-formed request (the route says so). A new address gets a code;
		 * an existing account gets an "already registered" mail. Both paths hash the password
		 * and send one mail after the response, so they look and time alike.
		 */
		async signup(input: SignupInput): Promise<void> {
			// A code that can reach nobody would make an account nobody can verify.
			if (!mailer.verifiable) throw apiError("MAIL_NOT_CONFIGURED");
			const email = normalizeEmail(input.email);
			// By domain alone, before the invite and the account: says nothing about either.
			await refusePasswordIfSsoOnly(db, email);
			let inviteHash: string | null = null;
			if (!pilotOpen) {
				// Checked before the account lookup: the answer never depends on the address.
				inviteHash = input.invite_code ? await inviteCodeHash(input.invite_code) : null;
				const invite = inviteHash
					? await db.query.invites.findFirst({
							where: and(eq(invites.codeHash, inviteHash), isNull(invites.usedAt)),
							columns: { codeHash: true },
						})
					: undefined;
				if (!invite) throw apiError("INVITE_REQUIRED");
			}
			const passwordHash = await passwords.hash(input.password);
			const code = sixDigitCode();
			const hashed = await codeHash(email, code);
			const address = await addressTag(email);
			const existing = await db.transaction(async (tx) => {
				const user = await tx.query.users.findFirst({
					where: eq(users.email, email),
					columns: { id: true },
				});
				if (user) {
					await recordAudit(tx, meta, {
						action: "signup",
						result: "existing_account",
						userId: user.id,
					});
					return true;
				}
				// Each signup adds a code bound to the password chosen with it; an earlier one stays
				// valid (see verificationCodes), and only the newest few per address are kept.
				// One statement, so this path makes as many round trips as the existing-account one.
				// The delete cannot see the row the insert adds (one snapshot): it keeps the newest
				// MAX_PENDING_CODES - 1 of the others.
				await tx.execute(sql`
					with added as (
						insert into verification_codes
							(email, purpose, code_hash, attempts, expires_at, password_hash, invite_code_hash)
						values (${email}, 'signup', ${hashed}, 0,
							now() + make_interval(mins => ${VERIFICATION_TTL_MINUTES}), ${passwordHash}, ${inviteHash})
						-- The same six digits drawn twice for one address: the newer signup has them.
						on conflict (email, purpose, code_hash) do update set
							attempts = 0, expires_at = excluded.expires_at, password_hash = excluded.password_hash,
							invite_code_hash = excluded.invite_code_hash, created_at = now()
						returning code_hash
					)
					delete from verification_codes
					where email = ${email} and purpose = 'signup'
						and code_hash not in (select code_hash from added)
						and (expires_at <= now() or code_hash not in (
							select code_hash from verification_codes
							where email = ${email} and purpose = 'signup'
							order by created_at desc limit ${MAX_PENDING_CODES - 1}))`);
				await recordAudit(tx, meta, {
					action: "signup",
					result: "code_sent",
					detail: { address },
				});
				return false;
			});
			sendLater(email, existing ? mails.alreadyRegistered() : mails.verificationCode(code));
		},

		/**
		 * A correct, fresh code creates the account (claiming licenses granted to the address)
		 * and starts a session. Wrong tries are counted in a committed update; the fifth burns
		 * the code.
		 */
		async verify(input: { email: string; code: string }): Promise<SessionView> {
			const email = normalizeEmail(input.email);
			// A code mailed before the org turned password login off makes no password account.
			await refusePasswordIfSsoOnly(db, email);
			const given = await codeHash(email, input.code);
			const session = await db.transaction(async (tx) => {
				const signupCodes = and(
					eq(verificationCodes.email, email),
					eq(verificationCodes.purpose, "signup"),
				);
				const rows = await tx.select().from(verificationCodes).where(signupCodes).for("update");
				const live = rows.filter(
					(r) => r.expiresAt.getTime() > Date.now() && r.attempts < VERIFICATION_MAX_ATTEMPTS,
				);
				if (live.length === 0) {
					await recordAudit(tx, meta, {
						action: "verify",
						result: rows.length > 0 ? "expired" : "no_code",
					});
					return null;
				}
				// Every pending code is compared (no early exit), in constant time each.
				let pending: (typeof live)[number] | undefined;
				for (const r of live) {
					if (constantTimeEqual(utf8(given), utf8(r.codeHash))) pending = r;
				}
				if (!pending) {
					// A wrong try counts against every code of the address: more codes pending
					// does not mean more guesses.
					const attempts = Math.max(...live.map((r) => r.attempts)) + 1;
					await tx
						.update(verificationCodes)
						.set({ attempts: sql`${verificationCodes.attempts} + 1` })
						.where(signupCodes);
					await tx
						.delete(verificationCodes)
						.where(and(signupCodes, gte(verificationCodes.attempts, VERIFICATION_MAX_ATTEMPTS)));
					await recordAudit(tx, meta, {
						action: "verify",
						result: "wrong_code",
						detail: { attempts },
					});
					return null;
				}
				// The account takes the password chosen with this code; the address's other codes die.
				await tx.delete(verificationCodes).where(signupCodes);
				const user = await createOrVerifyUser(tx, email, pending.passwordHash);
				if (pending.inviteCodeHash) {
					const used = await tx
						.update(invites)
						.set({ usedAt: sql`now()`, usedBy: user.id })
						.where(and(eq(invites.codeHash, pending.inviteCodeHash), isNull(invites.usedAt)))
						.returning({ codeHash: invites.codeHash });
					// Someone else verified with the same invite first: roll the whole thing back.
					if (used.length === 0) throw apiError("INVITE_REQUIRED");
				}
				await deps.licenses.claimByEmail(tx, user.id, email);
				await recordAudit(tx, meta, { action: "verify", result: "success", userId: user.id });
				return issueSession(tx, config, user);
			});
			if (!session) throw apiError("INVALID_CODE");
			return session;
		},

		/**
		 * Every failure is the same 401. Every path pays exactly one Argon2 verification (a
		 * dummy one for unknown addresses), and lockout is decided by one conditional UPDATE
		 * per attempt, so concurrent failures are all counted.
		 */
		async login(input: { email: string; password: string }): Promise<SessionView> {
			const email = normalizeEmail(input.email);
			await refuseSsoOnly(email);
			const user = await db.query.users.findFirst({
				where: eq(users.email, email),
				columns: { id: true, email: true, passwordHash: true, emailVerifiedAt: true },
			});
			const usable = user?.passwordHash && user.emailVerifiedAt ? user.passwordHash : null;
			let ok = false;
			if (usable) ok = await passwords.verify(usable, input.password);
			else await passwords.burn(input.password);
			if (!ok || !user) {
				// Unknown addresses run the very same statements (an UPDATE matching no row), so
				// the database round trips match too, not just the hash.
				const target = usable && user ? user.id : "";
				const lockedNow = await db.transaction(async (tx) => {
					// Attempts while locked are not counted (they are refused anyway).
					const rows = await tx.execute<{ failed_logins: number; locked: boolean }>(sql`
						update users set
							failed_logins = case when failed_logins + 1 >= ${LOCKOUT_THRESHOLD} then 0 else failed_logins + 1 end,
							locked_until = case when failed_logins + 1 >= ${LOCKOUT_THRESHOLD}
								then now() + make_interval(mins => ${LOCKOUT_MINUTES}) else locked_until end
						where id = ${target} and (locked_until is null or locked_until <= now())
						returning failed_logins, (locked_until > now()) as locked`);
					const row = rows[0];
					await recordAudit(tx, meta, {
						action: "failed_login",
						result: !user
							? "unknown_account"
							: !usable
								? "no_password"
								: row
									? "wrong_password"
									: "locked",
						userId: user?.id ?? null,
					});
					if (row?.locked && user) {
						await recordAudit(tx, meta, {
							action: "lockout",
							result: "locked",
							userId: user.id,
							detail: { minutes: LOCKOUT_MINUTES },
						});
						return true;
					}
					return false;
				});
				if (lockedNow && user) sendLater(user.email, mails.lockout(LOCKOUT_MINUTES));
				throw invalidCredentials();
			}
			const passwordHash = usable ?? "";
			const rehash = passwords.needsRehash(passwordHash)
				? await passwords.hash(input.password)
				: null;
			const session = await db.transaction(async (tx) => {
				const rows = await tx.execute<{ id: string }>(sql`
					update users set failed_logins = 0,
						password_hash = coalesce(${rehash}::text, password_hash)
					where id = ${user.id} and (locked_until is null or locked_until <= now())
					returning id`);
				if (rows.length === 0) {
					await recordAudit(tx, meta, {
						action: "failed_login",
						result: "locked",
						userId: user.id,
					});
					return null;
				}
				await recordAudit(tx, meta, {
					action: "login",
					result: "success",
					userId: user.id,
					detail: rehash ? { rehashed: true } : undefined,
				});
				return issueSession(tx, config, user);
			});
			if (!session) throw invalidCredentials();
			return session;
		},

		/**
		 * Rotation: the conditional UPDATE marks the presented token used, so of two concurrent
		 * refreshes only one can win. A token that was already used is a replay: the whole family
		 * is revoked (the legitimate holder logs in again) and the event is audited.
		 */
		async refresh(token: string): Promise<SessionView> {
			if (!isRefreshTokenFormat(token)) throw invalidRefresh();
			const tokenHash = await hashRefreshToken(token);
			const outcome = await db.transaction(async (tx) => {
				const rows = await tx.execute<{
					user_id: string;
					family_id: string;
					expires_at: Date | string;
				}>(sql`
					update refresh_tokens set used_at = now()
					where token_hash = ${tokenHash} and used_at is null and revoked_at is null and expires_at > now()
					returning user_id, family_id, expires_at`);
				const row = rows[0];
				if (row) {
					const user = await tx.query.users.findFirst({
						where: eq(users.id, row.user_id),
						columns: { id: true, email: true },
					});
					if (!user) return null;
					return issueSession(tx, config, user, {
						id: row.family_id,
						expiresAt: new Date(row.expires_at),
					});
				}
				const [old] = await tx
					.select({
						userId: refreshTokens.userId,
						familyId: refreshTokens.familyId,
						usedAt: refreshTokens.usedAt,
						revokedAt: refreshTokens.revokedAt,
					})
					.from(refreshTokens)
					.where(eq(refreshTokens.tokenHash, tokenHash));
				if (old?.usedAt && !old.revokedAt) {
					await revokeFamilies(tx, old.userId, [old.familyId]);
					await recordAudit(tx, meta, {
						action: "refresh_reuse",
						result: "family_revoked",
						userId: old.userId,
						detail: { family_id: old.familyId },
					});
				}
				return null;
			});
			if (!outcome) throw invalidRefresh();
			return outcome;
		},

		/** Revokes the presented refresh token's family (if it is the caller's) and the access token's own. */
		async logout(user: { id: string; sessionId: string }, refreshToken: string): Promise<void> {
			const families = [user.sessionId];
			if (isRefreshTokenFormat(refreshToken)) {
				const [row] = await db
					.select({ familyId: refreshTokens.familyId })
					.from(refreshTokens)
					.where(
						and(
							eq(refreshTokens.tokenHash, await hashRefreshToken(refreshToken)),
							eq(refreshTokens.userId, user.id),
						),
					);
				if (row) families.push(row.familyId);
			}
			await db.transaction(async (tx) => {
				await revokeFamilies(tx, user.id, families);
				await recordAudit(tx, meta, { action: "logout", result: "success", userId: user.id });
			});
		},

		providers(): Promise<ProviderInfo[]> {
			return listProviders(config.settings);
		},

		/**
		 * Links by provider id first; then, only when the provider vouches for the address, by
		 * email (an unverified provider email must never take over an existing account).
		 */
		async oauthCallback(input: CallbackInput): Promise<SessionView & { licenses: LicenseView[] }> {
			const identity = await exchangeCode(config.settings, input);
			const session = await db
				.transaction(async (tx) => {
					const [linked] = await tx
						.select({ id: users.id, email: users.email })
						.from(oauthAccounts)
						.innerJoin(users, eq(users.id, oauthAccounts.userId))
						.where(
							and(
								eq(oauthAccounts.provider, identity.provider),
								eq(oauthAccounts.providerId, identity.providerId),
							),
						);
					let user: SessionUser | undefined = linked;
					let created = false;
					if (!user) {
						const email = identity.verifiedEmail;
						if (!email) {
							throw apiError(
								"FORBIDDEN",
								`Your ${identity.provider} account has no verified email address; verify one there first.`,
							);
						}
						const before = await tx.query.users.findFirst({
							where: eq(users.email, email),
							columns: { id: true, emailVerifiedAt: true },
						});
						// Linking to a verified account is a sign-in; anything else makes an account and
						// passes the same gate as password signup (the invite is spent below, once).
						const opensAccount = !before?.emailVerifiedAt;
						if (opensAccount && !pilotOpen && !input.invite_code) {
							throw oauthInviteRequired(identity.provider);
						}
						user = await createOrVerifyUser(tx, email, null);
						created = !before;
						if (opensAccount && !pilotOpen) {
							const used = await tx
								.update(invites)
								.set({ usedAt: sql`now()`, usedBy: user.id })
								.where(
									and(
										eq(invites.codeHash, await inviteCodeHash(input.invite_code ?? "")),
										isNull(invites.usedAt),
									),
								)
								.returning({ codeHash: invites.codeHash });
							// Unknown or already used (perhaps a moment ago): the new account rolls back.
							if (used.length === 0) throw oauthInviteRequired(identity.provider);
						}
						await tx
							.insert(oauthAccounts)
							.values({
								provider: identity.provider,
								providerId: identity.providerId,
								userId: user.id,
							})
							.onConflictDoNothing();
						await tx
							.update(users)
							.set({ oauthProvider: identity.provider, oauthProviderId: identity.providerId })
							.where(and(eq(users.id, user.id), isNull(users.oauthProvider)));
						await deps.licenses.claimByEmail(tx, user.id, email);
						if (created) {
							await recordAudit(tx, meta, {
								action: "signup",
								result: "oauth",
								userId: user.id,
								detail: { provider: identity.provider, address: await addressTag(email) },
							});
						}
					}
					// An org that signs its domain in only through its own provider closes this door
					// too: a Google or GitHub account of the domain would bypass the org's IdP (and its
					// offboarding). Refused before a session exists; a new account rolls back.
					await refusePasswordIfSsoOnly(tx, user.email);
					await recordAudit(tx, meta, {
						action: "login",
						result: "success",
						userId: user.id,
						detail: { provider: identity.provider },
					});
					return issueSession(tx, config, user);
				})
				.catch(async (err: unknown) => {
					if (err instanceof ApiError && err.code === "SSO_REQUIRED") {
						await recordAudit(db, meta, {
							action: "failed_login",
							result: "sso_required",
							detail: { provider: identity.provider },
						});
					}
					throw err;
				});
			return { ...session, licenses: await deps.licenses.summaryOf(session.user.id) };
		},

		/**
		 * Operator: a batch of single-use invite codes, shown once; only their hashes and last 4
		 * characters are stored, under the batch whose list says who used which.
		 */
		async createInvites(count: number, label?: string): Promise<CreatedInviteBatch> {
			const batchId = newId("ivb");
			const codes = Array.from({ length: count }, () => newInviteCode());
			const rows = await Promise.all(
				codes.map(async (c) => ({
					codeHash: await inviteCodeHash(c),
					batchId,
					codeLast4: c.slice(-4),
				})),
			);
			// Every operator write is audited; the codes themselves never are.
			await db.transaction(async (tx) => {
				await tx.insert(inviteBatches).values({ id: batchId, label: label ?? null });
				await tx.insert(invites).values(rows);
				await recordAudit(tx, meta, {
					action: "invites_created",
					result: "success",
					detail: { count: codes.length, batch_id: batchId, label: label ?? null },
				});
			});
			return { batch_id: batchId, label: label ?? null, codes };
		},
	};
}

/**
 * Who a signup audit row is about, so the dashboard can count people rather than requests:
 * a keyed hash of the address (the audit log never holds the address itself).
 */
export async function signupAddressTag(pepper: CryptoKey, email: string): Promise<string> {
	return (await hmacHex(pepper, `signup-address\u0000${email}`)).slice(0, 32);
}

/**
 * Inserts the verified user, or marks an existing one verified (keeping its password if set).
 * Also SSO login's: the org's provider vouches for the address (src/sso/login.ts).
 */
export async function createOrVerifyUser(
	tx: Queryable,
	email: string,
	passwordHash: string | null,
): Promise<SessionUser> {
	const [inserted] = await tx
		.insert(users)
		.values({ id: newId("usr"), email, passwordHash, emailVerifiedAt: sql`now()` })
		.onConflictDoNothing({ target: users.email })
		.returning({ id: users.id, email: users.email });
	if (inserted) return inserted;
	const [existing] = await tx
		.update(users)
		.set({
			emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`,
			passwordHash: sql`coalesce(${users.passwordHash}, ${passwordHash}::text)`,
		})
		.where(eq(users.email, email))
		.returning({ id: users.id, email: users.email });
	if (!existing) throw new Error("user vanished during verification");
	return existing;
}

export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}

/** Uniform 000000–999999 (rejection sampling: no modulo bias). */
function sixDigitCode(): string {
	const buf = new Uint32Array(1);
	for (;;) {
		crypto.getRandomValues(buf);
		const v = buf[0] ?? 0;
		if (v < 4_294_000_000) return String(v % 1_000_000).padStart(6, "0");
	}
}

const INVITE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `INV-XXXX-XXXX-XXXX-XXXX`: 80 random bits in Crockford base32. */
function newInviteCode(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	let s = "";
	for (const b of bytes) s += INVITE_ALPHABET[b & 31];
	return `INV-${s.match(/.{4}/g)?.join("-") ?? s}`;
}

/** Case, dashes and spaces do not matter when a human types the code back. */
async function inviteCodeHash(code: string): Promise<string> {
	const canonical = code.toUpperCase().replace(/[\s-]/g, "");
	const digest = await crypto.subtle.digest("SHA-256", utf8(`invite\u0000${canonical}`));
	return toHex(new Uint8Array(digest));
}

function utf8(s: string): Uint8Array<ArrayBuffer> {
	return new TextEncoder().encode(s);
}
