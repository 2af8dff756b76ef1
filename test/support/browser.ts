/**
 * Debian's headless Chromium, driven by playwright-core, for pages a person opens (/docs, /admin).
 * Missing Chromium is a failure with the fix in its message, never a skip: .ci/run installs it.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** No network of its own: no QUIC, updates, sync or background fetches while under test. */
const FLAGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
	if (!existsSync(CHROMIUM)) {
		throw new Error(
			`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH). .ci/run installs it.`,
		);
	}
	return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

export interface DocsVisit {
	/** Every URL the page asked for that is not on the server's origin. */
	outside: string[];
	/** Operation summaries the viewer rendered, as a person sees them. */
	text: string;
	/** Whether the fallback link to /openapi.json is visible. */
	fallbackVisible: boolean;
	/** CSP violations and uncaught errors reported by the page. */
	problems: string[];
	screenshot: Buffer;
}

/**
 * Opens `${baseUrl}/docs` in a fresh context and records every request. `blockScripts` makes
 * every script fail to load, as on a network that strips them. Outside requests are aborted
 * after being recorded, so a failure never reaches the internet.
 */
export async function visitDocs(
	browser: Browser,
	baseUrl: string,
	opts: { blockScripts?: boolean; waitFor?: string[]; expand?: string[] } = {},
): Promise<DocsVisit> {
	const { context, page, outside, problems } = await watchedContext(browser, baseUrl, opts);
	try {
		await page.goto(`${baseUrl}/docs`, { waitUntil: "load" });
		const visible = (text: string) =>
			page.getByText(text, { exact: true }).first().waitFor({ state: "visible", timeout: 30_000 });
		// Sidebar groups other than the first start collapsed: open them as a reader would.
		for (const group of opts.expand ?? []) {
			await visible(group);
			await page.getByText(group, { exact: true }).first().click();
		}
		for (const text of opts.waitFor ?? []) await visible(text);
		// Late requests (lazy chunks, telemetry after mount) get a moment to show themselves.
		await page.waitForTimeout(1_000);
		const fallback = page.locator("#docs-fallback a[href='/openapi.json']");
		return {
			outside,
			// biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point: what a person sees, hidden nodes left out.
			text: await page.locator("body").innerText(),
			fallbackVisible: (await fallback.count()) > 0 && (await fallback.isVisible()),
			problems,
			screenshot: await page.screenshot(),
		};
	} finally {
		await context.close();
	}
}

export interface WatchedContext {
	context: BrowserContext;
	page: Page;
	/** Every URL the pages asked for that is not on the server's origin (aborted). */
	outside: string[];
	/** CSP violations, console errors and uncaught errors. */
	problems: string[];
}

/**
 * A fresh context on `baseUrl` that records (and aborts) every request elsewhere (the /docs
 * visit and the operator console). `blockScripts` makes every script fail to load.
 */
export async function watchedContext(
	browser: Browser,
	baseUrl: string,
	opts: { blockScripts?: boolean } = {},
): Promise<WatchedContext> {
	const origin = new URL(baseUrl).origin;
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await context.newPage();
	const outside: string[] = [];
	const problems: string[] = [];
	page.on("console", (m) => {
		if (m.type() === "error") problems.push(m.text());
	});
	page.on("pageerror", (e) => problems.push(e.message));
	await context.route("**/*", async (route) => {
		const url = route.request().url();
		const local =
			url.startsWith(`${origin}/`) || url.startsWith("data:") || url.startsWith("blob:");
		if (!local) {
			outside.push(url);
			return route.abort();
		}
		if (opts.blockScripts && route.request().resourceType() === "script") return route.abort();
		return route.continue();
	});
	return { context, page, outside, problems };
}

/** Writes a screenshot under test-results/<dir>/ and prints where, so the test log shows it. */
export async function saveScreenshot(page: Page, dir: string, name: string): Promise<string> {
	const path = resolve("test-results", dir, `${name}.png`);
	mkdirSync(dirname(path), { recursive: true });
	await page.screenshot({ path, fullPage: true });
	console.log(`screenshot: ${path}`);
	return path;
}
