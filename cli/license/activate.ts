/**
 * Taking a seat: POST activate (with the key) or activate-mine (as the logged-in owner), then
 * the token becomes this machine's license. Only `coditect activate` and `upgrade` call this;
 * a check never does (a check reports, it does not take seats).
 */
import { hostname } from "node:os";
import { apiRequest } from "../api";
import { type AcceptedLicense, acceptLicenseToken } from "./accept";
import type { CheckContext } from "./context";

/** The license part of activate/validate answers that the CLI uses. */
export interface LicenseBody {
	id: string;
	plan: string;
	status: string;
	expires_at: string | null;
	max_activations: number;
	key_last4?: string;
}

export interface ActivateResponse {
	activation: { id: string; hardware_id: string };
	license: LicenseBody;
	token: string;
}

/** Optional activation fields, cut to the server's limits (docs/api.md §3). */
export function machineDescription(): { hostname: string; platform: string } {
	return {
		hostname: [...hostname()]
			.filter((ch) => ch.charCodeAt(0) > 0x1f && ch.charCodeAt(0) !== 0x7f)
			.join("")
			.slice(0, 255),
		platform: `${process.platform}-${process.arch}`.slice(0, 32),
	};
}

export type SeatCredential = { licenseKey: string } | { bearer: string };

/** Activates this machine and stores its license. Server refusals throw ApiFailure. */
export async function activateMachine(
	ctx: CheckContext,
	credential: SeatCredential,
): Promise<AcceptedLicense & { response: ActivateResponse }> {
	const { apiUrl } = ctx.config;
	const machine = { hardware_id: ctx.hardwareId, ...machineDescription() };
	const response =
		"licenseKey" in credential
			? await apiRequest<ActivateResponse>(apiUrl, "POST", "/api/v1/licenses/activate", {
					json: { license_key: credential.licenseKey, ...machine },
				})
			: await apiRequest<ActivateResponse>(apiUrl, "POST", "/api/v1/licenses/activate-mine", {
					json: machine,
					bearer: credential.bearer,
				});
	const accepted = await acceptLicenseToken(
		ctx,
		response.token,
		"licenseKey" in credential
			? { source: "key", license_key: credential.licenseKey, activation_id: response.activation.id }
			: { source: "account", activation_id: response.activation.id },
	);
	return { ...accepted, response };
}
