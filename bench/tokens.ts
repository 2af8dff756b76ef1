/**
 * License-token figures: signing in workerd on WebCrypto (what the Worker does per validate)
 * and on Node (native `crypto.sign`, what the Node entry does), verification on Node through
 * WebCrypto and through node:crypto (what the CLI does at every start).
 *
 *   npx tsx bench/tokens.ts
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { nodeVerifier } from "../cli/node-crypto";
import { buildConfig } from "../src/config";
import { SettingsSchema } from "../src/env";
import {
	generateSigningKeyPair,
	importPublicKeySet,
	importPublicKeySetWith,
	licenseTokenClaims,
	signLicenseToken,
	verifyLicenseToken,
	verifyLicenseTokenWith,
} from "../src/kernel/index";
import { nodeCrypto } from "../src/node/native-crypto";
import { type BenchRow, fmt } from "./lib";

const HW = "a".repeat(64);
const claimsInput = {
	issuer: "https://license.coditect.dev",
	licenseId: "lic_0123456789abcdefghjk",
	hardwareId: HW,
	lic: {
		plan: "professional",
		status: "active",
		expires_at: null,
		max_activations: 3,
		entitlements: ["core", "pro"],
	},
	licenseExpiresAt: null,
};

async function opsPerSecond(ms: number, op: () => Promise<unknown>): Promise<number> {
	for (let i = 0; i < 200; i++) await op();
	let n = 0;
	const start = performance.now();
	while (performance.now() - start < ms) {
		for (let i = 0; i < 50; i++) await op();
		n += 50;
	}
	return (n * 1000) / (performance.now() - start);
}

export async function runTokenBench(): Promise<{ rows: BenchRow[] }> {
	const pair = await generateSigningKeyPair();
	const settings = SettingsSchema.parse({
		PUBLIC_URL: "https://license.coditect.dev",
		LICENSE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
		LICENSE_KEY_PEPPER: "p".repeat(40),
		JWT_SECRET: "j".repeat(40),
	});
	const [portable, native] = await Promise.all([
		buildConfig(settings),
		buildConfig(settings, nodeCrypto),
	]);
	const claims = licenseTokenClaims(claimsInput);
	const token = await signLicenseToken(native.signingKey, claims);
	const webKeys = await importPublicKeySet([pair.publicJwk]);
	const nodeKeys = await importPublicKeySetWith([pair.publicJwk], nodeVerifier);

	const rows: BenchRow[] = [];
	rows.push({
		name: "token sign, workerd WebCrypto",
		value: `${fmt(await workerdSignOps(pair.privateJwk))} ops/s`,
	});
	rows.push({
		name: "token sign, Node native crypto.sign (Node entry)",
		value: `${fmt(await opsPerSecond(1500, () => signLicenseToken(native.signingKey, claims)))} ops/s`,
	});
	rows.push({
		name: "token sign, Node WebCrypto",
		value: `${fmt(await opsPerSecond(1500, () => signLicenseToken(portable.signingKey, claims)))} ops/s`,
	});
	rows.push({
		name: "token verify, Node node:crypto (CLI)",
		value: `${fmt(await opsPerSecond(1500, () => verifyLicenseTokenWith(token, nodeKeys, nodeVerifier, { hardwareId: HW })))} ops/s`,
	});
	rows.push({
		name: "token verify, Node WebCrypto",
		value: `${fmt(await opsPerSecond(1500, () => verifyLicenseToken(token, webKeys, { hardwareId: HW })))} ops/s`,
	});
	return { rows };
}

/** Signs inside bare workerd; timed from outside (workerd's clock stands still while code runs). */
async function workerdSignOps(privateJwk: object): Promise<number> {
	const tokenModule = fileURLToPath(new URL("../src/kernel/index.ts", import.meta.url));
	const entry = `
		import { importSigningKey, licenseTokenClaims, signLicenseToken } from ${JSON.stringify(tokenModule)};
		let ready;
		export default {
			async fetch(req) {
				// Random values are only allowed inside a handler in workerd.
				ready ??= importSigningKey(${JSON.stringify(JSON.stringify(privateJwk))});
				const key = await ready;
				const claims = licenseTokenClaims(${JSON.stringify({ ...claimsInput })});
				const n = Number(new URL(req.url).searchParams.get("n") ?? "0");
				for (let i = 0; i < n; i++) await signLicenseToken(key, claims);
				return new Response(String(n));
			},
		};`;
	const out = await build({
		stdin: { contents: entry, resolveDir: process.cwd(), loader: "ts" },
		bundle: true,
		format: "esm",
		platform: "neutral",
		write: false,
	});
	const mf = new Miniflare(
		convertV4MiniflareOptions({
			workers: [
				{
					name: "sign-bench",
					modules: [
						{ type: "ESModule", path: "bench.mjs", contents: out.outputFiles[0]?.text ?? "" },
					],
					compatibilityDate: "2026-10-01",
				},
			],
		}),
	);
	try {
		const time = async (n: number): Promise<number> => {
			const started = performance.now();
			await (await mf.dispatchFetch(`http://bench/?n=${n}`)).text();
			return performance.now() - started;
		};
		await time(2000);
		const runs: number[] = [];
		for (let i = 0; i < 5; i++) runs.push((await time(5000)) - (await time(0)));
		runs.sort((a, b) => a - b);
		return (5000 * 1000) / (runs[2] ?? Number.NaN);
	} finally {
		await mf.dispose();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	for (const r of (await runTokenBench()).rows) console.log(`${r.name}: ${r.value}`);
}
