// wrangler (and the test plugin) load `.wasm` imports as compiled WebAssembly modules.
declare module "*.wasm" {
	const module: WebAssembly.Module;
	export default module;
}
