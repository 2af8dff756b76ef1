/**
 * Once per test run, on Node: a webhook receiver the Worker inside workerd can reach (test code
 * in workerd cannot listen on a port). It records every POST as it arrived — the raw body
 * bytes, which the signature covers, and the signature header — and answers 200, or the
 * status in a `?status=` query. Tests read what arrived with `GET /_received?path=…`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
	export interface ProvidedContext {
		webhookReceiver: string;
	}
}

export interface ReceivedWebhook {
	path: string;
	body: string;
	signature: string;
	userAgent: string;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const received: ReceivedWebhook[] = [];
	const server = createServer((req, res) => {
		const url = new URL(req.url ?? "/", "http://receiver");
		if (req.method === "GET" && url.pathname === "/_received") {
			const path = url.searchParams.get("path") ?? "";
			res.writeHead(200, { "content-type": "application/json" });
			res.end(JSON.stringify({ received: received.filter((r) => r.path === path) }));
			return;
		}
		let body = "";
		req.setEncoding("utf8");
		req.on("data", (chunk: string) => {
			body += chunk;
		});
		req.on("end", () => {
			received.push({
				path: url.pathname,
				body,
				signature: String(req.headers["coditect-signature"] ?? ""),
				userAgent: String(req.headers["user-agent"] ?? ""),
			});
			res.writeHead(Number(url.searchParams.get("status") ?? 200)).end("ok");
		});
	});
	await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
	project.provide("webhookReceiver", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
	return () => new Promise<void>((ok) => server.close(() => ok()));
}
