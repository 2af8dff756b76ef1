/**
 * Password-hashing figures (issue 3): ms per Argon2id hash (m=19456, t=2, p=1) for the chosen
 * implementations — the WASM core inside bare workerd (Miniflare, outside the product) and the
 * native binding on Node — and the login timing gap between an unknown email and a wrong
 * password (median of many, same run, same process, against a real database).
 *
 *   npx tsx bench/passwords.ts        (DATABASE_URL / TEST_DATABASE_URL, else embedded PGlite)
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { logMailer } from "../src/accounts/mailer";
import { passwordHasher } from "../src/accounts/password";
import { accountService } from "../src/accounts/service";
import { buildConfig } from "../src/config";
import { users } from "../src/db/schema";
import { SettingsSchema } from "../src/env";
import { newId } from "../src/ids";
import { Licenses } from "../src/licenses/index";
import { argon2idNative } from "../src/node/argon2";
import { openDatabase } from "../src/node/database";
import { argon2idWasm } from "../src/workers/argon2-wasm";
import { type BenchRow, benchSecrets } from "./lib";

const WASM_PATH = fileURLToPath(
	new URL("../node_modules/argon2-wasm-edge/wasm/argon2.wasm", import.meta.url),
);

export async function runPasswordBench(
	opts: { hashes?: number; logins?: number } = {},
): Promise<{ rows: BenchRow[] }> {
	const hashes = opts.hashes ?? 15;
	const logins = opts.logins ?? 60;
	const rows: BenchRow[] = [];

	const workerd = await workerdHashMs(hashes);
	rows.push({
		name: "Argon2id hash in workerd (WASM core, chosen)",
		value: `${workerd.toFixed(1)} ms`,
	});

	const native = passwordHasher(argon2idNative);
	const nodeMs = await medianMs(hashes, () => native.hash("correct horse battery"));
	rows.push({
		name: "Argon2id hash on Node (@node-rs/argon2, chosen)",
		value: `${nodeMs.toFixed(1)} ms`,
	});
	const wasmOnNode = passwordHasher(
		argon2idWasm(new WebAssembly.Module(await readFile(WASM_PATH))),
	);
	const wasmNodeMs = await medianMs(hashes, () => wasmOnNode.hash("correct horse battery"));
	rows.push({
		name: "Argon2id hash on Node (same WASM core, reference)",
		value: `${wasmNodeMs.toFixed(1)} ms`,
	});

	const gap = await loginGap(logins);
	rows.push({ name: "login, unknown email (median, Node)", value: `${gap.unknown.toFixed(1)} ms` });
	rows.push({ name: "login, wrong password (median, Node)", value: `${gap.wrong.toFixed(1)} ms` });
	const pct = (Math.abs(gap.wrong - gap.unknown) / gap.wrong) * 100;
	rows.push({
		name: "login timing gap, unknown email vs wrong password",
		value: `${pct.toFixed(1)} %`,
		target: "≤ 10 %",
		ok: pct <= 10,
	});
	return { rows };
}

/** Median ms per hash inside bare workerd: the driver bundled as a Worker, timed in-isolate. */
async function workerdHashMs(n: number): Promise<number> {
	const entry = `
		import mod from "./argon2.wasm";
		import { argon2idWasm } from ${JSON.stringify(fileURLToPath(new URL("../src/workers/argon2-wasm.ts", import.meta.url)))};
		import { passwordHasher } from ${JSON.stringify(fileURLToPath(new URL("../src/accounts/password.ts", import.meta.url)))};
		const hasher = passwordHasher(argon2idWasm(mod));
		export default {
			async fetch(req) {
				const n = Number(new URL(req.url).searchParams.get("n") ?? "1");
				if (n > 0) await hasher.hash("warm-up password");
				for (let i = 0; i < n; i++) await hasher.hash("correct horse battery");
				return Response.json({ hashed: n });
			},
		};`;
	const out = await build({
		stdin: { contents: entry, resolveDir: process.cwd(), loader: "ts" },
		bundle: true,
		format: "esm",
		platform: "neutral",
		mainFields: ["module", "main"],
		external: ["./argon2.wasm"],
		write: false,
	});
	const code = out.outputFiles[0]?.text ?? "";
	const mf = new Miniflare(
		convertV4MiniflareOptions({
			workers: [
				{
					name: "argon2-bench",
					modules: [
						{ type: "ESModule", path: "bench.mjs", contents: code },
						{ type: "CompiledWasm", path: "argon2.wasm", contents: await readFile(WASM_PATH) },
					],
					compatibilityDate: "2026-10-01",
				},
			],
		}),
	);
	try {
		// workerd's clock stands still while code runs (a Spectre mitigation), so hashes are timed
		// from outside: 5 hashes per request (plus one warm-up), minus a request that hashes none.
		await (await mf.dispatchFetch("http://bench/?n=1")).json();
		const times: number[] = [];
		for (let i = 0; i < n; i++) {
			const started = performance.now();
			await (await mf.dispatchFetch("http://bench/?n=5")).json();
			times.push((performance.now() - started) / 6);
		}
		// Subtract the round trip of a request that hashes nothing.
		const empty: number[] = [];
		for (let i = 0; i < 5; i++) {
			const started = performance.now();
			await (await mf.dispatchFetch("http://bench/?n=0")).json();
			empty.push(performance.now() - started);
		}
		return median(times) - median(empty) / 6;
	} finally {
		await mf.dispose();
	}
}

async function loginGap(n: number): Promise<{ unknown: number; wrong: number }> {
	const url = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;
	const database = await openDatabase({ url, dataDir: null, max: 4 });
	try {
		const settings = SettingsSchema.parse({
			PUBLIC_URL: "http://127.0.0.1:8787",
			...(await benchSecrets()),
		});
		const config = await buildConfig(settings);
		const passwords = passwordHasher(argon2idNative);
		const meta = { ip: "127.0.0.1", userAgent: "bench" };
		const accounts = accountService({
			db: database.db,
			config,
			meta,
			passwords,
			mailer: logMailer(() => {}),
			licenses: new Licenses({ db: database.db, config, meta, now: () => new Date() }),
			defer: () => {},
		});
		const email = `bench-${newId("usr")}@example.test`;
		await database.db.insert(users).values({
			id: newId("usr"),
			email,
			passwordHash: await passwords.hash("the right password"),
			emailVerifiedAt: new Date(),
		});
		const fail = async (f: () => Promise<unknown>): Promise<number> => {
			const started = performance.now();
			await f().then(
				() => {
					throw new Error("login unexpectedly succeeded");
				},
				() => undefined,
			);
			return performance.now() - started;
		};
		const unknown: number[] = [];
		const wrong: number[] = [];
		for (let i = 0; i < n; i++) {
			// Reset outside the timing, so every sample is a plain wrong password (not a lockout).
			await database.db.update(users).set({ failedLogins: 0, lockedUntil: null });
			// Interleaved, so drift (GC, noisy neighbours) hits both series alike.
			unknown.push(
				await fail(() =>
					accounts.login({ email: `nobody-${i}@example.test`, password: "wrong password" }),
				),
			);
			wrong.push(await fail(() => accounts.login({ email, password: "wrong password" })));
		}
		return { unknown: median(unknown), wrong: median(wrong) };
	} finally {
		await database.close();
	}
}

async function medianMs(n: number, f: () => Promise<unknown>): Promise<number> {
	await f();
	const times: number[] = [];
	for (let i = 0; i < n; i++) {
		const started = performance.now();
		await f();
		times.push(performance.now() - started);
	}
	return median(times);
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	const mid = Math.floor(s.length / 2);
	return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	const { rows } = await runPasswordBench();
	for (const r of rows) {
		const verdict = r.ok === undefined ? "" : r.ok ? "  ok" : "  MISSED";
		console.log(
			`${r.name.padEnd(56)} ${r.value.padStart(10)}${r.target ? `  (target ${r.target})` : ""}${verdict}`,
		);
	}
}
