import { describe, expect, it } from "vitest";
import {
	AddressNotAllowedError,
	guardedLookup,
	type ResolveAll,
} from "../../src/node/webhook-fetch";
import { checkWebhookUrl, PRODUCTION_POLICY } from "../../src/webhooks/ssrf";

const dev = { httpsOnly: false, allowLoopback: true };

describe("webhook URLs in production", () => {
	it("takes public https URLs, by name or public address", () => {
		for (const url of [
			"https://hooks.example.com/coditect",
			"https://8.8.8.8/x",
			"https://[2606:4700::1111]/x",
		]) {
			expect(checkWebhookUrl(url, PRODUCTION_POLICY), url).toMatchObject({ ok: true });
		}
	});

	it("refuses http, other schemes and garbage", () => {
		expect(checkWebhookUrl("http://hooks.example.com/")).toEqual({
			ok: false,
			reason: "scheme_not_allowed",
		});
		expect(checkWebhookUrl("ftp://hooks.example.com/")).toEqual({
			ok: false,
			reason: "scheme_not_allowed",
		});
		expect(checkWebhookUrl("file:///etc/passwd")).toEqual({
			ok: false,
			reason: "scheme_not_allowed",
		});
		expect(checkWebhookUrl("not a url")).toEqual({ ok: false, reason: "invalid_url" });
	});

	it("refuses credentials in the URL", () => {
		expect(checkWebhookUrl("https://user:pw@hooks.example.com/")).toEqual({
			ok: false,
			reason: "credentials_in_url",
		});
	});

	it("refuses private, loopback, link-local, multicast and reserved addresses, however written", () => {
		for (const url of [
			"https://127.0.0.1/",
			"https://127.1/",
			"https://2130706433/",
			"https://0x7f000001/",
			"https://localhost/",
			"https://api.localhost./",
			"https://10.0.0.5/",
			"https://172.16.3.4/",
			"https://192.168.1.1/",
			"https://169.254.169.254/latest/meta-data",
			"https://100.64.0.1/",
			"https://0.0.0.0/",
			"https://224.0.0.1/",
			"https://255.255.255.255/",
			"https://240.0.0.1/",
			"https://[::1]/",
			"https://[::]/",
			"https://[fe80::1]/",
			"https://[fc00::1]/",
			"https://[ff02::1]/",
			"https://[::ffff:127.0.0.1]/",
			"https://[::ffff:10.0.0.1]/",
		]) {
			expect(checkWebhookUrl(url, PRODUCTION_POLICY), url).toEqual({
				ok: false,
				reason: "address_not_allowed",
			});
		}
	});
});

describe("webhook URLs in dev and test", () => {
	it("let http and loopback through for a local receiver", () => {
		for (const url of ["http://127.0.0.1:8787/hook", "http://localhost:3000/", "http://[::1]:9/"]) {
			expect(checkWebhookUrl(url, dev), url).toMatchObject({ ok: true });
		}
	});

	it("still refuse private and link-local addresses", () => {
		for (const url of ["http://10.0.0.1/", "http://169.254.169.254/", "http://[fe80::1]/"]) {
			expect(checkWebhookUrl(url, dev), url).toEqual({ ok: false, reason: "address_not_allowed" });
		}
	});
});

describe("guardedLookup (Node, at connect time)", () => {
	const answering =
		(...addresses: string[]): ResolveAll =>
		(_hostname, callback) =>
			callback(
				null,
				addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
			);
	const run = (
		resolve: ResolveAll,
		options: Record<string, unknown> = {},
		policy = PRODUCTION_POLICY,
	) =>
		new Promise<{ err: unknown; address: unknown; family: unknown }>((done) =>
			guardedLookup(policy, resolve)("name.test", options, (err, address, family) =>
				done({ err, address, family }),
			),
		);

	it.each([
		["127.0.0.1"],
		["10.1.2.3"],
		["169.254.169.254"],
		["100.64.0.1"],
		["::1"],
		["::ffff:127.0.0.1"],
		["::ffff:10.0.0.1"],
		["fe80::1"],
		["fd12:3456::1"],
		["0.0.0.0"],
	])("refuses a name answering %s", async (address) => {
		const { err } = await run(answering(address));
		expect(err).toBeInstanceOf(AddressNotAllowedError);
	});

	it("refuses when any one answer is private, and when there is none", async () => {
		expect((await run(answering("93.184.215.14", "192.168.1.1"))).err).toBeInstanceOf(
			AddressNotAllowedError,
		);
		expect((await run(answering())).err).toBeInstanceOf(AddressNotAllowedError);
	});

	it("answers the checked public addresses, one or all, of the family asked for", async () => {
		const both = answering("2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14");
		expect(await run(both)).toEqual({
			err: null,
			address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
			family: 6,
		});
		expect(await run(both, { family: 4 })).toEqual({
			err: null,
			address: "93.184.215.14",
			family: 4,
		});
		const all = await run(both, { all: true });
		expect(all.err).toBeNull();
		expect(all.address).toHaveLength(2);
	});

	it("lets loopback through only when the policy allows it", async () => {
		const dev = { httpsOnly: false, allowLoopback: true };
		expect(await run(answering("127.0.0.1"), {}, dev)).toEqual({
			err: null,
			address: "127.0.0.1",
			family: 4,
		});
		expect((await run(answering("10.0.0.1"), {}, dev)).err).toBeInstanceOf(AddressNotAllowedError);
	});

	it("passes a resolver error through", async () => {
		const failing: ResolveAll = (_h, cb) =>
			cb(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }), []);
		expect((await run(failing)).err).toMatchObject({ code: "ENOTFOUND" });
	});
});
