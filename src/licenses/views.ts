/** The JSON shapes of licenses and activations in API responses (keys only as last 4). */
import type { activations, LicenseStatus, PlanEntitlements } from "../db/schema";
import type { LicenseRow } from "./queries";

export interface LicenseView {
	id: string;
	plan: string;
	status: LicenseStatus;
	expires_at: string | null;
	max_activations: number;
	key_last4: string;
	entitlements: PlanEntitlements;
}

export interface ActivationView {
	id: string;
	hardware_id: string;
	hostname: string | null;
	platform: string | null;
	created_at: string;
	last_validated_at: string | null;
	/** Activated from an air-gapped machine's request file (docs/offline-activation.md). */
	offline: boolean;
}

export interface OwnedLicense extends LicenseView {
	activations: ActivationView[];
}

export function licenseView(l: LicenseRow): LicenseView {
	return {
		id: l.id,
		plan: l.planId,
		status: l.status,
		expires_at: l.expiresAt?.toISOString() ?? null,
		max_activations: l.maxActivations,
		key_last4: l.keyLast4,
		entitlements: l.entitlements,
	};
}

export function activationView(a: typeof activations.$inferSelect): ActivationView {
	return {
		id: a.id,
		hardware_id: a.hardwareId,
		hostname: a.hostname,
		platform: a.platform,
		created_at: a.createdAt.toISOString(),
		last_validated_at: a.lastValidatedAt?.toISOString() ?? null,
		offline: a.machineKey !== null,
	};
}
