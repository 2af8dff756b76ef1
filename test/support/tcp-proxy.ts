/**
 * A TCP proxy between a server and its Postgres, so a test can take "the database" away and
 * give it back without touching the machine's shared server: `stop()` cuts every open
 * connection and refuses new ones (ECONNREFUSED, as a stopped Postgres does), `start()`
 * accepts again on the same port.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
	/** `databaseUrl` with its host and port replaced by the proxy's. */
	url: string;
	/** Connections open through the proxy right now. */
	readonly open: number;
	stop(): Promise<void>;
	start(): Promise<void>;
	close(): Promise<void>;
}

export async function startTcpProxy(databaseUrl: string): Promise<TcpProxy> {
	const target = new URL(databaseUrl);
	const targetPort = Number(target.port || 5432);
	const targetHost = target.hostname;
	const sockets = new Set<Socket>();
	let server: Server | null = null;
	let port = 0;

	const track = (s: Socket): void => {
		sockets.add(s);
		s.once("close", () => sockets.delete(s));
	};

	async function listen(): Promise<void> {
		const s = createServer((client) => {
			const upstream = connect(targetPort, targetHost);
			track(client);
			track(upstream);
			client.pipe(upstream);
			upstream.pipe(client);
			// Either side failing ends the pair, like a dead network path would.
			client.on("error", () => upstream.destroy());
			upstream.on("error", () => client.destroy());
			client.on("close", () => upstream.destroy());
			upstream.on("close", () => client.destroy());
		});
		await new Promise<void>((ok, fail) => {
			s.once("error", fail);
			s.listen(port, "127.0.0.1", () => ok());
		});
		const address = s.address();
		if (address && typeof address === "object") port = address.port;
		server = s;
	}

	await listen();
	const url = new URL(databaseUrl);
	url.hostname = "127.0.0.1";
	url.port = String(port);

	async function stop(): Promise<void> {
		const s = server;
		server = null;
		for (const socket of sockets) socket.destroy();
		if (s) await new Promise<void>((ok) => s.close(() => ok()));
	}

	return {
		url: url.toString(),
		get open() {
			return sockets.size / 2;
		},
		stop,
		async start() {
			if (!server) await listen();
		},
		close: stop,
	};
}
