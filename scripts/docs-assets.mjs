/**
 * The Worker's static assets (wrangler.toml `[assets]`): Scalar's browser bundle for `/docs`,
 * copied from the pinned npm package `@scalar/api-reference` into dist/assets/. Only the one
 * file: the package's browser folder also holds 19 MB of chunks and source maps the page never
 * loads. wrangler runs this as the custom build (`[build]`) before `dev` and `deploy`; the
 * worker test suites run it from their global setup. Idempotent.
 */
import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const ASSETS_DIR = join(root, "dist", "assets");
/** The name the Worker asks the ASSETS binding for (src/worker.ts). */
export const BUNDLE_FILE = "scalar-api-reference.js";

export async function copyDocsAssets() {
	let main;
	try {
		main = createRequire(join(root, "package.json")).resolve("@scalar/api-reference");
	} catch {
		throw new Error("@scalar/api-reference is not installed: run npm ci");
	}
	// The package exports no subpath for its browser build; its main entry sits beside it.
	const source = join(dirname(main), "browser", "standalone.js");
	const target = join(ASSETS_DIR, BUNDLE_FILE);
	const same = await Promise.all([readFile(source), readFile(target).catch(() => null)]).then(
		([a, b]) => b !== null && a.equals(b),
	);
	if (!same) {
		await mkdir(ASSETS_DIR, { recursive: true });
		await copyFile(source, target);
	}
	return { path: target, bytes: (await stat(target)).size };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	const { path, bytes } = await copyDocsAssets();
	console.log(`docs assets: ${path} (${bytes} bytes)`);
}
