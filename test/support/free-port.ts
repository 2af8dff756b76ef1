import { createServer } from "node:net";

/** A loopback TCP port free right now, for a server that must be told its port up front. */
export function freePort(): Promise<number> {
	return new Promise((ok, fail) => {
		const probe = createServer();
		probe.once("error", fail);
		probe.listen(0, "127.0.0.1", () => {
			const address = probe.address();
			probe.close(() => ok(typeof address === "object" && address ? address.port : 0));
		});
	});
}
