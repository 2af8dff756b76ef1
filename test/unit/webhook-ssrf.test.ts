import { describe, expect, it } from "vitest";
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
