/**
 * Builds the CLI package: cli/dist/cli.cjs (the command line), cli/dist/status.cjs (`license
 * status` alone, for the bin) and cli/dist/lib.mjs (`checkLicense`, ESM), each one
 * self-contained minified file with its dependencies (citty, open) inside, so installing the package runs no scripts and fetches nothing else. The `coditect`
 * bin, cli/dist/coditect.cjs, is cli/loader.cjs: it sends `license status` to status.cjs
 * through a V8 code cache taken after the run, and everything else to cli.cjs with Node's
 * on-disk compile cache (module.enableCompileCache), which spares compiling ~120 KB again
 * at each start (~2.5 ms measured with hyperfine). cli.cjs alone still runs (it is the
 * single-file release download).
 *
 * One file, not code-split chunks: esbuild turns each `import()` of a bundled module into a
 * lazily run function, so commands, citty and `open` are parsed (cheaply, V8 pre-parses)
 * but never executed by `license status`, while every extra ESM file would cost a resolve,
 * read, compile and link. Measured: ~5 ms less start-up than a 30-chunk split build.
 */
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildOptions, build, type Plugin } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI_DIST = resolve(root, "cli/dist");

/**
 * Imports Node built-ins through `process.getBuiltinModule` instead of `import … from "node:…"`.
 * An ESM import of a built-in builds a facade that reads every export, and reading
 * `fs.promises` or `fs.ReadStream` loads fs/promises, streams and more; in CommonJS output,
 * esbuild's interop copies every property. Both cost measurable milliseconds of
 * `license status` start-up. Only plain data properties are re-exported, so code importing
 * a lazy (getter) export fails the build instead of getting undefined at run time.
 */
const PROMPT_LIBRARY = /[\\/]node_modules[\\/]@clack[\\/]/;

const lazyBuiltins: Plugin = {
	name: "lazy-builtins",
	setup(b) {
		const require = createRequire(import.meta.url);
		b.onResolve({ filter: /^node:/ }, (args) => ({
			// @clack/prompts reads `stdin`/`stdout` of node:process (getters). It is loaded only
			// when a prompt is shown, so its own facades may read getters when they run.
			path: PROMPT_LIBRARY.test(args.importer) ? `${args.path}#getters` : args.path,
			namespace: "lazy-builtin",
		}));
		b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => {
			const [path = "", variant] = args.path.split("#");
			const mod = require(path) as Record<string, unknown>;
			const names = Object.keys(mod).filter((name) => {
				const descriptor = Object.getOwnPropertyDescriptor(mod, name);
				return (
					descriptor !== undefined &&
					("value" in descriptor || variant === "getters") &&
					/^[A-Za-z_$][\w$]*$/.test(name)
				);
			});
			// Each export is a call marked pure, so esbuild drops the ones nobody imports: a plain
			// `m.name` read counts as a possible side effect and would stay, and some reads run
			// Node's own lazy loaders (fs.opendir loads internal/fs/dir) at every start.
			const lines = [
				`const m = process.getBuiltinModule(${JSON.stringify(path)});`,
				"const pick = (name) => m[name];",
				"export default m;",
				...names.map((name) => `export const ${name} = /* @__PURE__ */ pick("${name}");`),
			];
			return { contents: lines.join("\n"), loader: "js" };
		});
	},
};

/**
 * @clack/prompts goes into its own file, dist/prompts.cjs, required only when a prompt
 * shows: inside cli.cjs it grew the bundle by ~65 KB that every `license status` start
 * had to read and pre-parse.
 */
const promptsApart: Plugin = {
	name: "prompts-apart",
	setup(b) {
		b.onResolve({ filter: /^@clack\/prompts$/ }, () => ({ path: "./prompts.cjs", external: true }));
	},
};

/** dist/lib.d.ts: cli/lib-types.ts (declarations only) plus the one function. */
async function libTypes(): Promise<string> {
	const types = await readFile(resolve(root, "cli/lib-types.ts"), "utf8");
	return `${types}
/** The license check for the host tool's start-up (docs/api.md §5). Never throws for a bad cache. */
export declare function checkLicense(options?: CheckLicenseOptions): Promise<LicenseCheck>;
`;
}

/** The pinned public keys come from this `index.ts` instead of keys/index.ts (release tests). */
function keysFrom(index: string): Plugin {
	return {
		name: "keys-index",
		setup(b) {
			b.onResolve({ filter: /(^|\/)keys\/index$/ }, () => ({ path: index }));
		},
	};
}

export interface BuildCliOptions {
	quiet?: boolean;
	/** Where the four files go; default cli/dist. */
	outDir?: string;
	/** A generated keys `index.ts` to bundle instead of keys/index.ts. */
	keysIndex?: string;
}

export async function buildCli(opts: BuildCliOptions = {}): Promise<void> {
	const outDir = opts.outDir ?? CLI_DIST;
	const plugins = [lazyBuiltins, ...(opts.keysIndex ? [keysFrom(opts.keysIndex)] : [])];
	const common: BuildOptions = {
		bundle: true,
		platform: "node",
		target: "node22",
		legalComments: "none",
		minify: process.env.CLI_NO_MINIFY !== "1",
		logLevel: opts.quiet ? "error" : "info",
		absWorkingDir: root,
	};
	await rm(outDir, { recursive: true, force: true });
	await mkdir(outDir, { recursive: true });
	await Promise.all([
		// The bin is CommonJS: Node starts a CommonJS entry ~2-3 ms faster than an ES module.
		// `import.meta` is only read by the library's background-refresh default, never here.
		build({
			...common,
			format: "cjs",
			plugins: [promptsApart, ...plugins],
			logOverride: { "empty-import-meta": "silent" },
			entryPoints: ["cli/index.ts"],
			outfile: join(outDir, "cli.cjs"),
			banner: { js: "#!/usr/bin/env node" },
		}),
		build({
			...common,
			format: "cjs",
			plugins,
			logOverride: { "empty-import-meta": "silent" },
			entryPoints: ["cli/status.ts"],
			outfile: join(outDir, "status.cjs"),
		}),
		build({
			...common,
			format: "cjs",
			plugins,
			entryPoints: ["node_modules/@clack/prompts/dist/index.mjs"],
			outfile: join(outDir, "prompts.cjs"),
		}),
		// The bin: cli/loader.cjs as it is (the one file not bundled; see its header).
		copyFile(resolve(root, "cli/loader.cjs"), join(outDir, "coditect.cjs")),
		build({
			...common,
			format: "esm",
			plugins,
			entryPoints: ["cli/lib.ts"],
			outfile: join(outDir, "lib.mjs"),
		}),
		libTypes().then((types) => writeFile(join(outDir, "lib.d.ts"), types)),
	]);
	await chmod(join(outDir, "coditect.cjs"), 0o755);
	await chmod(join(outDir, "cli.cjs"), 0o755);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	await buildCli();
}
