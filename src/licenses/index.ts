/**
 * The License: the only module that writes `licenses` and `activations`
 * (test/unit/license-writers.test.ts keeps it so). One file per use case; this class is the
 * outline handlers see, built per request by the services middleware.
 */
import type { Queryable } from "../db/client";
import {
	type ActivateInput,
	type ActivateResult,
	activateByKey,
	deactivateByKey,
	type MachineInput,
} from "./activate";
import type { LicenseContext } from "./context";
import {
	activateOffline,
	deactivateOffline,
	type OfflineLicenseFile,
	type OfflineRelease,
	type OfflineRequest,
	type Uploader,
} from "./offline";
import {
	type CreateLicenseInput,
	createLicense,
	type StatusAction,
	setLicenseStatus,
	type UpdateLicenseInput,
	updateLicense,
} from "./operator";
import {
	activateMine,
	claimLicensesByEmail,
	freeActivation,
	freeSeatMachines,
	listOwned,
	reissueKey,
} from "./owner";
import { listOwnedLicenses } from "./queries";
import { refreshHeldActivation } from "./refresh";
import { type ValidateInput, type ValidateResult, validateLicense } from "./validate";
import { type LicenseView, licenseView, type OwnedLicense } from "./views";

export type { ActivateInput, ActivateResult, MachineInput } from "./activate";
export type { LicenseContext } from "./context";
export type { OfflineLicenseFile, OfflineRelease, OfflineRequest, Uploader } from "./offline";
export type { CreateLicenseInput, StatusAction, UpdateLicenseInput } from "./operator";
export type { ValidateInput, ValidateResult } from "./validate";
export type { ActivationView, LicenseView, OwnedLicense } from "./views";

export class Licenses {
	constructor(private readonly ctx: LicenseContext) {}

	// Key holder: the license key is the credential.
	validate(input: ValidateInput): Promise<ValidateResult> {
		return validateLicense(this.ctx, input);
	}
	activate(input: ActivateInput): Promise<ActivateResult> {
		return activateByKey(this.ctx, input);
	}
	deactivate(input: { license_key: string; hardware_id: string }): Promise<void> {
		return deactivateByKey(this.ctx, input);
	}

	// Owner: a logged-in user and their own licenses.
	listOwned(userId: string): Promise<OwnedLicense[]> {
		return listOwned(this.ctx, userId);
	}
	async summaryOf(userId: string): Promise<LicenseView[]> {
		return (await listOwnedLicenses(this.ctx.db, userId)).map(licenseView);
	}
	activateMine(userId: string, input: MachineInput): Promise<ActivateResult> {
		return activateMine(this.ctx, userId, input);
	}
	reissueKey(userId: string, licenseId: string): Promise<{ license_key: string }> {
		return reissueKey(this.ctx, userId, licenseId);
	}
	/** A fresh token for a machine the user already holds; never activates. */
	refreshActivation(
		userId: string,
		licenseId: string,
		activationId: string,
	): Promise<ValidateResult> {
		return refreshHeldActivation(this.ctx, userId, licenseId, activationId);
	}
	freeActivation(userId: string, licenseId: string, activationId: string): Promise<void> {
		return freeActivation(this.ctx, userId, licenseId, activationId);
	}
	/** Called inside the account's own transaction when an address becomes an account. */
	claimByEmail(tx: Queryable, userId: string, email: string): Promise<void> {
		return claimLicensesByEmail(tx, userId, email);
	}

	/** A member leaves an org: their seat's machines are freed in the caller's transaction. */
	freeSeatMachines(tx: Queryable, memberId: string): Promise<number> {
		return freeSeatMachines(tx, memberId);
	}

	// Air-gapped machines: the operator, or a user who may manage the license, uploads the files.
	activateOffline(
		licenseId: string,
		request: OfflineRequest,
		by: Uploader,
	): Promise<OfflineLicenseFile> {
		return activateOffline(this.ctx, licenseId, request, by);
	}
	deactivateOffline(
		licenseId: string,
		release: OfflineRelease,
		by: Uploader,
	): Promise<{ deactivated: true; activation_id: string }> {
		return deactivateOffline(this.ctx, licenseId, release, by);
	}

	// Operator.
	create(input: CreateLicenseInput): Promise<{ license: LicenseView; license_key: string }> {
		return createLicense(this.ctx, input);
	}
	setStatus(licenseId: string, action: StatusAction): Promise<LicenseView> {
		return setLicenseStatus(this.ctx, licenseId, action);
	}
	update(licenseId: string, input: UpdateLicenseInput): Promise<LicenseView> {
		return updateLicense(this.ctx, licenseId, input);
	}
}
