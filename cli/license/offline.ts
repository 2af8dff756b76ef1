/**
 * Air-gapped activation on the machine (docs/offline-activation.md): the request file it
 * writes, the license file it installs, and the release receipt it signs when it gives the
 * seat back. Nothing here touches the network.
 *
 * The machine has its own Ed25519 key (machine-key.json in CODITECT_HOME, 0600): its public
 * half goes to the server in the request, and the private half signs the release receipt, so
 * the server can tell a receipt this machine made from one anybody typed.
 */
import {
	createPrivateKey,
	generateKeyPairSync,
	type KeyObject,
	randomBytes,
	sign,
} from "node:crypto";
import { readFileSync } from "node:fs";
import { encodeBase64Url, encodeUtf8 } from "../../src/kernel/base64url";
import type { LicenseTokenClaims } from "../../src/kernel/token/claims";
import { importPublicKeySetWith, jwkThumbprint } from "../../src/kernel/token/keys";
import { releaseSigningInput } from "../../src/kernel/token/release";
import { verifyLicenseTokenWith } from "../../src/kernel/token/verify";
import { CliError, EXIT_UNLICENSED } from "../errors";
import { isObject, readJsonFile, removeFile, writeJsonFile } from "../home";
import { nodeVerifier } from "../node-crypto";
import type { AcceptedLicense } from "./accept";
import { machineDescription } from "./activate";
import type { CheckContext } from "./context";
import { cacheJwks, trustedKeys, trustsFetchedKeys } from "./keys";
import { resetLastSeen, type StoredLicense, writeLicenseFile } from "./store";

export const REQUEST_FORMAT = "coditect-offline-request";
export const LICENSE_FORMAT = "coditect-offline-license";
export const RELEASE_FORMAT = "coditect-offline-release";

/** What `activate --offline-request` writes (and keeps a copy of, to match the answer). */
export interface OfflineRequestFile {
	format: typeof REQUEST_FORMAT;
	version: 1;
	license_id: string;
	hardware_id: string;
	hostname: string;
	platform: string;
	nonce: string;
	machine_key: { kty: "OKP"; crv: "Ed25519"; x: string };
	created_at: string;
}

interface MachineKey {
	x: string;
	privateKey: KeyObject;
}

function importMachineKey(jwk: { x: string; d: string }): MachineKey | null {
	try {
		const privateKey = createPrivateKey({
			key: { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
			format: "jwk",
		});
		return { x: jwk.x, privateKey };
	} catch {
		return null;
	}
}

/**
 * This machine's key, made on first use (`create`). A missing or damaged file is replaced
 * by a new key: the next request carries it, and its upload moves the seat this machine may
 * already hold onto it (receipts signed with the old key then no longer count).
 */
function machineKey(ctx: CheckContext, create: boolean): MachineKey | null {
	const read = readJsonFile(ctx.paths.machineKey);
	if (read.kind === "ok" && isObject(read.value)) {
		const { kty, crv, x, d } = read.value;
		if (kty === "OKP" && crv === "Ed25519" && typeof x === "string" && typeof d === "string") {
			const key = importMachineKey({ x, d });
			if (key !== null) return key;
		}
	}
	if (!create) return null;
	const exported = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
	if (typeof exported.x !== "string" || typeof exported.d !== "string") {
		throw new Error("node:crypto exported an Ed25519 key without x or d");
	}
	const jwk = { kty: "OKP", crv: "Ed25519", x: exported.x, d: exported.d };
	writeJsonFile(ctx.paths.machineKey, jwk);
	const key = importMachineKey(jwk);
	if (key === null) throw new Error("node:crypto could not import the key it just made");
	return key;
}

/** What install checks an answer against: the license and nonce of the latest request. */
function pendingRequest(ctx: CheckContext): { license_id: string; nonce: string } | null {
	const read = readJsonFile(ctx.paths.offlineRequest);
	if (read.kind !== "ok" || !isObject(read.value)) return null;
	const { format, license_id, nonce } = read.value;
	if (format !== REQUEST_FORMAT || typeof license_id !== "string" || typeof nonce !== "string") {
		return null;
	}
	return { license_id, nonce };
}

/**
 * Writes a request file for `licenseId` to `out` and keeps a copy as the pending request. A new
 * request replaces an earlier pending one: only the latest answer will install.
 */
export function writeOfflineRequest(
	ctx: CheckContext,
	licenseId: string,
	out: string,
): OfflineRequestFile {
	const key = machineKey(ctx, true);
	if (key === null) throw new Error("no machine key after creating one");
	const request: OfflineRequestFile = {
		format: REQUEST_FORMAT,
		version: 1,
		license_id: licenseId,
		hardware_id: ctx.hardwareId,
		...machineDescription(),
		nonce: encodeBase64Url(randomBytes(32)),
		machine_key: { kty: "OKP", crv: "Ed25519", x: key.x },
		created_at: new Date(ctx.nowMs).toISOString(),
	};
	writeJsonFile(out, request);
	writeJsonFile(ctx.paths.offlineRequest, request);
	return request;
}

function refuse(message: string, code = "INVALID_OFFLINE_FILE"): CliError {
	return new CliError(message, code, EXIT_UNLICENSED);
}

function readFileJson(path: string, what: string): Record<string, unknown> {
	let text: string;
	try {
		text = readFileSync(path, "utf8");
	} catch {
		throw new CliError(`Cannot read the ${what} ${path}.`, "FILE_NOT_FOUND");
	}
	try {
		const value: unknown = JSON.parse(text);
		if (isObject(value)) return value;
	} catch {
		// Reported below, with the same words as a non-object.
	}
	throw refuse(`${path} is not a ${what} (not a JSON object).`);
}

/**
 * Installs a license file the server made for this machine's pending request: the token must
 * verify with a trusted key, be an offline token for this machine, and answer the pending
 * request's nonce. Then it becomes license.json (source "offline") and the pending request is
 * done.
 */
export async function installOfflineLicense(
	ctx: CheckContext,
	path: string,
): Promise<AcceptedLicense> {
	const file = readFileJson(path, "offline license file");
	if (file.format !== LICENSE_FORMAT || file.version !== 1 || typeof file.token !== "string") {
		throw refuse(
			`${path} is not an offline license file (format ${LICENSE_FORMAT}, version 1). Upload the request file and save the server's whole answer.`,
		);
	}
	const pending = pendingRequest(ctx);
	if (pending === null) {
		throw refuse(
			"This machine has no pending offline request. Run `coditect activate --offline-request --license ID` first, and install the answer to that request.",
			"NO_PENDING_REQUEST",
		);
	}
	const { config, hardwareId } = ctx;
	// A self-hosted server's keys cannot be fetched from here: the file carries them, and they
	// count only where a fetched JWKS would (never for the production URL; see ./keys.ts).
	const jwks = isObject(file.jwks) && Array.isArray(file.jwks.keys) ? file.jwks.keys : [];
	let keys = await trustedKeys(config.home, config.apiUrl);
	const carried = trustsFetchedKeys(config.apiUrl)
		? await importPublicKeySetWith({ keys: jwks }, nodeVerifier)
		: new Map<string, KeyObject>();
	if (carried.size > 0) keys = new Map([...keys, ...carried]);
	const verified = await verifyLicenseTokenWith(file.token, keys, nodeVerifier, {
		now: new Date(ctx.nowMs),
		hardwareId,
		issuer: config.apiUrl,
	});
	if (!verified.ok) {
		const why: Record<string, string> = {
			WRONG_HARDWARE: "it was made for another machine's request",
			WRONG_ISSUER: `it comes from another license server than ${config.apiUrl}`,
			EXPIRED: "it has expired (or this machine's clock is wrong)",
			ISSUED_IN_FUTURE: "it was issued later than this machine's clock says: the clock is wrong",
			NOT_YET_VALID: "it was issued later than this machine's clock says: the clock is wrong",
			UNKNOWN_KEY: "it is signed with a key this CLI does not know",
		};
		throw refuse(
			`The offline license file does not verify (${verified.reason}): ${why[verified.reason] ?? "it is damaged or was altered"}.`,
			"TOKEN_REJECTED",
		);
	}
	const claims: LicenseTokenClaims = verified.claims;
	if (claims.offline !== true) {
		throw refuse("The file holds an online license token, not an offline one.", "TOKEN_REJECTED");
	}
	if (claims.nonce !== pending.nonce || claims.sub !== pending.license_id) {
		throw refuse(
			"The offline license file answers another request than this machine's pending one. Upload the latest request file (the one `coditect activate --offline-request` wrote last) and install its answer.",
			"REQUEST_MISMATCH",
		);
	}
	if (carried.size > 0) {
		// Kept like a fetched JWKS (the keys that import), so later checks need no file.
		cacheJwks(
			config.home,
			config.apiUrl,
			jwks.filter((k) => isObject(k) && typeof k.kid === "string" && carried.has(k.kid)),
		);
	}
	const activation = isObject(file.activation) ? file.activation : {};
	const stored: StoredLicense = {
		version: 1,
		api_url: config.apiUrl,
		source: "offline",
		license_key: null,
		license_id: claims.sub,
		activation_id: typeof activation.id === "string" ? activation.id : null,
		token: file.token,
		// Never online: the signed issue time stands in for it.
		last_online_at: claims.iat,
	};
	writeLicenseFile(ctx.paths, stored);
	// As for an online token: the server's signed time repairs a last-seen that a clock running
	// ahead left in the future; this machine's own now counts too, as at every check.
	resetLastSeen(ctx.paths, Math.max(claims.iat * 1000, ctx.nowMs));
	removeFile(ctx.paths.offlineRequest);
	return { claims, stored };
}

/** What `deactivate --offline` writes: the receipt the server frees the seat with. */
export interface OfflineReleaseFile {
	format: typeof RELEASE_FORMAT;
	version: 1;
	license_id: string;
	activation_id: string;
	receipt: string;
}

/**
 * Signs a release receipt for the installed offline license with the machine key and writes it
 * to `out`. The caller deletes license.json right after: the receipt says it is gone.
 */
export async function writeReleaseReceipt(
	ctx: CheckContext,
	stored: StoredLicense,
	nonce: string,
	out: string,
): Promise<OfflineReleaseFile> {
	const key = machineKey(ctx, false);
	if (key === null) {
		throw refuse(
			`The machine key (${ctx.paths.machineKey}) is missing or damaged, so this machine cannot sign a release receipt. Free the seat from your account or ask the operator, then run \`coditect deactivate --force\`.`,
			"NO_MACHINE_KEY",
		);
	}
	if (stored.activation_id === null) {
		throw refuse("The stored offline license names no activation.", "INVALID_TOKEN");
	}
	const kid = await jwkThumbprint({ crv: "Ed25519", kty: "OKP", x: key.x });
	const input = releaseSigningInput(kid, {
		sub: stored.license_id,
		act: stored.activation_id,
		hwid: ctx.hardwareId,
		nonce,
		iat: Math.floor(ctx.nowMs / 1000),
	});
	const signature = sign(null, encodeUtf8(input), key.privateKey);
	const receipt: OfflineReleaseFile = {
		format: RELEASE_FORMAT,
		version: 1,
		license_id: stored.license_id,
		activation_id: stored.activation_id,
		receipt: `${input}.${encodeBase64Url(signature)}`,
	};
	writeJsonFile(out, receipt);
	return receipt;
}
