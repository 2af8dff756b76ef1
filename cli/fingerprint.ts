/**
 * Hardware id (docs/api.md §5): HMAC-SHA-256, keyed with a fixed product key, of the OS machine id,
 * as 64 lowercase hex. The raw OS id never leaves the machine; the product key means the
 * value is useless for correlating this machine with other products that hash the same id.
 */
import { readFileSync } from "node:fs";
import { CliError } from "./errors";
import { hmacSha256 } from "./node-crypto";

const HARDWARE_ID_KEY = "coditect-hwid-v1";

export type HardwareIdSource = "env" | "config" | "linux" | "macos" | "windows";

export interface HardwareId {
	/** What goes on the wire and into tokens: 64 lowercase hex chars. */
	id: string;
	source: HardwareIdSource;
}

// A process asks for the same id at every license check: the last answer is kept (a pure
// function of its input; three hashes and their buffers, ~5 % of a check after import).
let lastRaw: string | undefined;
let lastId = "";

/** The keyed hash of a raw identity (also used for CODITECT_HARDWARE_ID). */
export function hashHardwareId(raw: string): string {
	if (raw !== lastRaw) {
		lastId = hmacSha256(HARDWARE_ID_KEY, raw.trim().toLowerCase()).toString("hex");
		lastRaw = raw;
	}
	return lastId;
}

function readFirstLine(path: string): string | null {
	try {
		const value = readFileSync(path, "utf8").trim();
		return value === "" ? null : value;
	} catch {
		return null;
	}
}

/**
 * Runs a short system tool synchronously. `getBuiltinModule` loads child_process only on the
 * platforms that need it, keeping it off the Linux start-up path.
 */
function runTool(file: string, args: string[]): string | null {
	try {
		const { execFileSync } = process.getBuiltinModule("node:child_process");
		return execFileSync(file, args, {
			encoding: "utf8",
			timeout: 5000,
			stdio: ["ignore", "pipe", "ignore"],
			windowsHide: true,
		});
	} catch {
		return null;
	}
}

/** IOPlatformUUID from `ioreg -rd1 -c IOPlatformExpertDevice` (macOS). */
export function parseIoregOutput(out: string | null): string | null {
	return (out && /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(out)?.[1]) || null;
}

/** MachineGuid from `reg query HKLM\SOFTWARE\Microsoft\Cryptography /v MachineGuid` (Windows). */
export function parseRegQueryOutput(out: string | null): string | null {
	return (out && /MachineGuid\s+REG_SZ\s+(\S+)/i.exec(out)?.[1]) || null;
}

/** The raw OS machine id, or null where there is none (minimal containers). */
export function readMachineId(
	platform: NodeJS.Platform = process.platform,
): { raw: string; source: HardwareIdSource } | null {
	if (platform === "darwin") {
		const uuid = parseIoregOutput(
			runTool("/usr/sbin/ioreg", ["-rd1", "-c", "IOPlatformExpertDevice"]),
		);
		return uuid ? { raw: uuid, source: "macos" } : null;
	}
	if (platform === "win32") {
		const guid = parseRegQueryOutput(
			runTool("reg", [
				"query",
				"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography",
				"/v",
				"MachineGuid",
				"/reg:64",
			]),
		);
		return guid ? { raw: guid, source: "windows" } : null;
	}
	const id = readFirstLine("/etc/machine-id") ?? readFirstLine("/var/lib/dbus/machine-id");
	return id ? { raw: id, source: "linux" } : null;
}

/**
 * This machine's hardware id: the configured override (CODITECT_HARDWARE_ID / config.yaml,
 * for containers and CI) or the OS machine id, hashed either way.
 */
export function resolveHardwareId(config: {
	hardwareIdOverride: string | undefined;
	sources: { hardwareId: string };
}): HardwareId {
	if (config.hardwareIdOverride !== undefined && config.hardwareIdOverride.trim() !== "") {
		return {
			id: hashHardwareId(config.hardwareIdOverride),
			source: config.sources.hardwareId === "config" ? "config" : "env",
		};
	}
	const machine = readMachineId();
	if (machine === null) {
		throw new CliError(
			"Could not read this machine's id (no /etc/machine-id, IOPlatformUUID or MachineGuid). In containers and CI set CODITECT_HARDWARE_ID to a stable value unique to this machine.",
			"NO_HARDWARE_ID",
		);
	}
	return { id: hashHardwareId(machine.raw), source: machine.source };
}
