/**
 * Air-gapped activation (docs/offline-activation.md). A machine that never reaches the server
 * writes a request file; someone who may manage the license (the operator, or its owner or an
 * admin of its org) uploads it and gets back a long-lived offline token for that machine. The
 * machine later proves it deleted that token with a receipt signed by its own key, and the
 * upload of that receipt frees the seat.
 *
 * The activation itself is the online one (activateLocked, under the license's row lock), so
 * the limit, idempotency and concurrency rules are the same; only the token and the two
 * offline columns differ.
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import { recordAudit } from "../audit/log";
import { activations, licenses } from "../db/schema";
import { ApiError, apiError } from "../errors";
import { decodeBase64Url } from "../kernel/base64url";
import {
	importEd25519PublicKey,
	jwkThumbprint,
	type PublicJwk,
	webCryptoVerifier,
} from "../kernel/token/keys";
import { RELEASE_RECEIPT_TYPE, readReleaseClaims } from "../kernel/token/release";
import { verifySignedPayload } from "../kernel/token/verify";
import { activateLocked, activationRemoved, refuseActivation } from "./activate";
import type { LicenseContext } from "./context";
import { issueOfflineLicenseToken } from "./issue-token";
import { lockLicense } from "./queries";
import { type ActivationView, activationView, type LicenseView, licenseView } from "./views";

export const OFFLINE_REQUEST_FORMAT = "coditect-offline-request";
export const OFFLINE_LICENSE_FORMAT = "coditect-offline-license";
export const OFFLINE_RELEASE_FORMAT = "coditect-offline-release";

/** A request file, as the CLI writes it (the routes check its shape). */
export interface OfflineRequest {
	format: typeof OFFLINE_REQUEST_FORMAT;
	version: 1;
	license_id: string;
	hardware_id: string;
	hostname?: string | undefined;
	platform?: string | undefined;
	nonce: string;
	/** The machine's Ed25519 public key, which will sign its release receipt. */
	machine_key: { kty: "OKP"; crv: "Ed25519"; x: string };
	created_at: string;
}

/** A release receipt file. */
export interface OfflineRelease {
	format: typeof OFFLINE_RELEASE_FORMAT;
	version: 1;
	license_id: string;
	activation_id: string;
	/** Compact JWS, `typ` coditect-offline-release+jwt, signed by the machine key. */
	receipt: string;
}

/** The license file the upload answers with; the machine installs it as it is. */
export interface OfflineLicenseFile {
	format: typeof OFFLINE_LICENSE_FORMAT;
	version: 1;
	created: boolean;
	activation: ActivationView;
	license: LicenseView;
	token: string;
	/**
	 * The server's published keys (its JWKS), for self-hosted servers: an air-gapped CLI cannot
	 * fetch them. A CLI uses them only where it would trust a fetched JWKS anyway (never for the
	 * production URL, whose keys are bundled).
	 */
	jwks: { keys: readonly PublicJwk[] };
}

/** Who uploads: the operator (ADMIN_TOKEN) or a user with a session. */
export type Uploader = { kind: "operator" } | { kind: "user"; userId: string };

/**
 * The licenses an uploader may manage: all for the operator; for a user their own and those of
 * an org they own or administer. Anything else is not found (404), never forbidden.
 */
function manageable(by: Uploader): SQL | undefined {
	if (by.kind === "operator") return undefined;
	return sql`(${licenses.ownerId} = ${by.userId} or ${licenses.orgId} in (
		select org_id from org_members where user_id = ${by.userId} and role in ('owner', 'admin')))`;
}

function invalid(message: string, field: string): ApiError {
	return new ApiError("INVALID_REQUEST", message, { extra: { fields: [field] } });
}

function auditBy(by: Uploader): { by: "operator" | "owner"; userId: string | null } {
	return by.kind === "operator"
		? { by: "operator", userId: null }
		: { by: "owner", userId: by.userId };
}

/** Uploads a request file: activates its machine (or finds it active) and signs its license. */
export async function activateOffline(
	ctx: LicenseContext,
	licenseId: string,
	request: OfflineRequest,
	by: Uploader,
): Promise<OfflineLicenseFile> {
	if (request.license_id !== licenseId) {
		throw invalid("The request file is for another license.", "license_id");
	}
	const who = auditBy(by);
	const outcome = await ctx.db.transaction(async (tx) => {
		const license = await lockLicense(tx, and(eq(licenses.id, licenseId), manageable(by)));
		if (!license) return { kind: "not_found" as const };
		const activated = await activateLocked(
			ctx,
			tx,
			license,
			{
				hardware_id: request.hardware_id,
				hostname: request.hostname,
				platform: request.platform,
			},
			who.userId,
			undefined,
			{ offline: true, by: who.by, nonce: request.nonce },
		);
		if (activated.kind !== "ok") return activated;
		// The machine's current request wins: the same file again changes nothing, and a new
		// request from the same machine (its home was wiped) takes over the seat it already holds.
		const [marked] = await tx
			.update(activations)
			.set({ offlineNonce: request.nonce, machineKey: request.machine_key.x })
			.where(eq(activations.id, activated.activation.id))
			.returning();
		if (!marked) throw new Error("the activation just made or found is gone");
		return { ...activated, activation: marked };
	});
	if (outcome.kind !== "ok") {
		if (outcome.kind === "not_found") {
			throw apiError("LICENSE_NOT_FOUND", "You have no license with this id.");
		}
		refuseActivation(outcome);
	}
	const token = await issueOfflineLicenseToken(
		ctx.config,
		outcome.license,
		request.hardware_id,
		request.nonce,
		ctx.now(),
	);
	return {
		format: OFFLINE_LICENSE_FORMAT,
		version: 1,
		created: outcome.created,
		activation: activationView(outcome.activation),
		license: licenseView(outcome.license),
		token,
		jwks: { keys: ctx.config.jwks },
	};
}

/** The receipt's claims when it is a JWS of the receipt type signed by machine key `x`; else null. */
async function receiptClaims(receipt: string, x: string) {
	let key: CryptoKey;
	let kid: string;
	try {
		key = await importEd25519PublicKey(decodeBase64Url(x));
		kid = await jwkThumbprint({ crv: "Ed25519", kty: "OKP", x });
	} catch {
		return null;
	}
	const signed = await verifySignedPayload(
		receipt,
		RELEASE_RECEIPT_TYPE,
		new Map([[kid, key]]),
		webCryptoVerifier,
	);
	return signed.ok ? readReleaseClaims(signed.payload) : null;
}

/**
 * Uploads a release receipt: frees the seat it names. A receipt works once: after it, the
 * activation is freed (409 on a second upload), and a later offline activation of the same
 * machine has a new id and nonce, which the old receipt does not name.
 */
export async function deactivateOffline(
	ctx: LicenseContext,
	licenseId: string,
	release: OfflineRelease,
	by: Uploader,
): Promise<{ deactivated: true; activation_id: string }> {
	if (release.license_id !== licenseId) {
		throw invalid("The release receipt is for another license.", "license_id");
	}
	const who = auditBy(by);
	// A refused receipt is audited, so it leaves the transaction as a result, not a throw.
	const result = await ctx.db.transaction(async (tx) => {
		const [row] = await tx
			.select({
				id: activations.id,
				hardwareId: activations.hardwareId,
				machineKey: activations.machineKey,
				offlineNonce: activations.offlineNonce,
				deactivatedAt: activations.deactivatedAt,
			})
			.from(activations)
			.innerJoin(licenses, eq(licenses.id, activations.licenseId))
			.where(
				and(
					eq(activations.id, release.activation_id),
					eq(activations.licenseId, licenseId),
					manageable(by),
				),
			)
			.for("update", { of: activations });
		if (!row) throw apiError("ACTIVATION_NOT_FOUND", "You have no activation with this id.");
		const audit = (result: string) =>
			recordAudit(tx, ctx.meta, {
				action: "license_deactivate",
				result,
				licenseId,
				userId: who.userId,
				detail: { activation_id: row.id, offline: true, by: who.by },
			});
		if (row.machineKey === null) {
			throw invalid(
				"This activation was not made offline and has no machine key; free it with DELETE /api/v1/licenses/{id}/activations/{activation_id}.",
				"activation_id",
			);
		}
		const claims = await receiptClaims(release.receipt, row.machineKey);
		if (
			claims === null ||
			claims.sub !== licenseId ||
			claims.act !== row.id ||
			claims.hwid !== row.hardwareId
		) {
			// Audited: a receipt that does not verify is a forgery or a mix-up worth seeing.
			await audit("BAD_RECEIPT");
			return "bad" as const;
		}
		if (row.deactivatedAt !== null) {
			throw apiError("CONFLICT", "This release receipt was already used: the seat is free.");
		}
		if (claims.nonce !== row.offlineNonce) {
			throw apiError(
				"CONFLICT",
				"This receipt releases an earlier offline license of this machine; the machine holds a newer one.",
			);
		}
		await tx
			.update(activations)
			.set({ deactivatedAt: sql`now()` })
			.where(eq(activations.id, row.id));
		await audit("success");
		await activationRemoved(tx, licenseId, row.id);
		return "freed" as const;
	});
	if (result === "bad") {
		throw invalid(
			"The release receipt does not verify with this machine's key, or names another machine.",
			"receipt",
		);
	}
	return { deactivated: true, activation_id: release.activation_id };
}
