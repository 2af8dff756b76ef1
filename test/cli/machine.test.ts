/** Machine identity and local files, in process: the parts that differ by OS or need a crash. */
import { execFileSync } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { saveSession } from "../../cli/account/credentials";
import {
	hashHardwareId,
	parseIoregOutput,
	parseRegQueryOutput,
	readMachineId,
} from "../../cli/fingerprint";
import { homePaths, writeFileAtomic } from "../../cli/home";
import { tempHome } from "./helpers";

describe("the OS machine id", () => {
	it("reads macOS IOPlatformUUID from ioreg output", () => {
		const out = `+-o J314sAP  <class IOPlatformExpertDevice, id 0x100000222, registered>
    {
      "IOPlatformSerialNumber" = "C02XXXXXXX"
      "IOPlatformUUID" = "5C2D0A8B-1F2E-4C3D-9A8B-7E6F5D4C3B2A"
    }`;
		expect(parseIoregOutput(out)).toBe("5C2D0A8B-1F2E-4C3D-9A8B-7E6F5D4C3B2A");
		expect(parseIoregOutput("")).toBeNull();
		expect(parseIoregOutput(null)).toBeNull();
	});

	it("reads Windows MachineGuid from reg query output", () => {
		const out = `\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    6f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f\r\n\r\n`;
		expect(parseRegQueryOutput(out)).toBe("6f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f");
		expect(
			parseRegQueryOutput("ERROR: The system was unable to find the specified registry key"),
		).toBeNull();
	});

	it("reads /etc/machine-id on Linux and never sends it raw", async () => {
		const id = readMachineId("linux");
		const raw = (await readFile("/etc/machine-id", "utf8").catch(() => "")).trim();
		if (raw === "") {
			expect(id).toBeNull();
			return;
		}
		expect(id).toEqual({ raw, source: "linux" });
		expect(hashHardwareId(raw)).toMatch(/^[0-9a-f]{64}$/);
		expect(hashHardwareId(raw)).not.toContain(raw);
	});
});

describe("files under CODITECT_HOME", () => {
	it("writes credentials.json 0600 in a 0700 directory, atomically, leaving no temp files", async () => {
		const t = await tempHome();
		try {
			const home = join(t.home, "nested");
			const paths = homePaths(home);
			saveSession(paths, "http://127.0.0.1:1", {
				token_type: "Bearer",
				access_token: "a",
				expires_in: 900,
				refresh_token: "r",
				refresh_expires_in: 7_776_000,
				user: { id: "usr_1", email: "ada@example.com" },
			});
			expect(((await stat(paths.credentials)).mode & 0o777).toString(8)).toBe("600");
			expect(((await stat(home)).mode & 0o777).toString(8)).toBe("700");
			expect(await readdir(home)).toEqual(["credentials.json"]);
		} finally {
			await t.cleanup();
		}
	});

	it("cleans up after a failed write, and a later write replaces the file whole", async () => {
		const t = await tempHome();
		try {
			const file = join(t.home, "license.json");
			await writeFile(file, '{"old":true}');
			// A file where the directory should be: the write fails before anything is renamed.
			expect(() => writeFileAtomic(join(file, "child.json"), "x")).toThrow();
			expect(await readFile(file, "utf8")).toBe('{"old":true}');
			writeFileAtomic(file, '{"new":true}');
			expect(await readFile(file, "utf8")).toBe('{"new":true}');
			expect((await readdir(t.home)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
		} finally {
			await t.cleanup();
		}
	});
});

describe("the checkout", () => {
	it("runs `coditect` from the TypeScript source through the root package's bin", () => {
		const out = execFileSync(process.execPath, ["cli/bin/coditect.mjs", "--version"], {
			encoding: "utf8",
		});
		expect(out.trim()).toBe("1.0.0-pilot.1");
	});
});
