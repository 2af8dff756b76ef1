/** GET /api/v1/admin/licenses: the operator's search, through the Worker on the run's database. */
import { describe, expect, it } from "vitest";
import { sql } from "../support/database";
import { call, createLicense, randomEmail } from "../support/worker-client";

interface Page {
	licenses: Array<{
		id: string;
		plan: string;
		status: string;
		key_last4: string;
		owner_email: string | null;
		owner: { id: string; email: string } | null;
		stripe_customer_id: string | null;
	}>;
	next_cursor: string | null;
}

async function search(query: string) {
	return call<Page>(`/api/v1/admin/licenses?${query}`, { admin: true });
}

describe("GET /api/v1/admin/licenses", () => {
	it("finds licenses by email substring, key last 4, status, plan and Stripe customer", async () => {
		const email = randomEmail("search");
		const a = await createLicense({ plan: "starter", owner_email: email });
		const b = await createLicense({ plan: "professional", owner_email: email });
		await call(`/api/v1/admin/licenses/${b.id}/suspend`, { method: "POST", admin: true });
		const byEmail = await search(`email=${encodeURIComponent(email.slice(0, 15).toUpperCase())}`);
		expect(byEmail.status, byEmail.text).toBe(200);
		expect(byEmail.body.licenses.map((l) => l.id)).toEqual([b.id, a.id]);
		expect(byEmail.body.licenses[0]?.owner_email).toBe(email);

		const last4 = a.key.slice(-4);
		const byKey = await search(
			`key_last4=${last4.toLowerCase()}&email=${encodeURIComponent(email)}`,
		);
		expect(byKey.body.licenses.map((l) => l.id)).toEqual([a.id]);

		const suspended = await search(`status=suspended&email=${encodeURIComponent(email)}`);
		expect(suspended.body.licenses.map((l) => l.id)).toEqual([b.id]);
		const starter = await search(`plan=starter&email=${encodeURIComponent(email)}`);
		expect(starter.body.licenses.map((l) => l.id)).toEqual([a.id]);

		const customer = `cus_${crypto.randomUUID().replace(/-/g, "")}`;
		await sql("update licenses set stripe_customer_id = $1 where id = $2", [customer, a.id]);
		const byCustomer = await search(`stripe_customer_id=${customer}`);
		expect(byCustomer.body.licenses.map((l) => [l.id, l.stripe_customer_id])).toEqual([
			[a.id, customer],
		]);
		// Never a key or its hash: only the last 4.
		expect(byEmail.text).not.toContain(a.key);
		expect(byEmail.text).not.toContain("key_hash");
	});

	it("pages with a cursor, each license once, until next_cursor is null", async () => {
		const email = randomEmail("paging");
		const made: string[] = [];
		for (let i = 0; i < 5; i++) made.push((await createLicense({ owner_email: email })).id);
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const res: Awaited<ReturnType<typeof search>> = await search(
				`email=${encodeURIComponent(email)}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
			);
			expect(res.status, res.text).toBe(200);
			expect(res.body.licenses.length).toBeLessThanOrEqual(2);
			seen.push(...res.body.licenses.map((l) => l.id));
			cursor = res.body.next_cursor;
			pages++;
		} while (cursor && pages < 10);
		expect(pages).toBe(3);
		expect(seen).toEqual([...made].reverse());
	});

	it("answers bad filters, limits and cursors with 400 naming the field", async () => {
		for (const [query, field] of [
			["limit=0", "limit"],
			["limit=201", "limit"],
			["limit=abc", "limit"],
			["status=gone", "status"],
			["key_last4=12345", "key_last4"],
			["cursor=bm90LWEtY3Vyc29y", "cursor"],
			["cursor=%25%25%25", "cursor"],
			["unknown=1", "unknown"],
		] as const) {
			const res = await call<{ error: { code: string; fields: string[] } }>(
				`/api/v1/admin/licenses?${query}`,
				{ admin: true },
			);
			expect(res.status, `${query}: ${res.text}`).toBe(400);
			expect(res.body.error.fields, query).toContain(field);
		}
	});

	it("is the operator's alone", async () => {
		const res = await call<{ error: { code: string } }>("/api/v1/admin/licenses");
		expect(res.status).toBe(401);
	});
});
