/** Node's TXT lookups for SSO domain verification: the system resolver (src/sso/resolver.ts). */
import { resolveTxt } from "node:dns/promises";
import type { TxtResolver } from "../sso/resolver";

export const nodeTxtResolver: TxtResolver = {
	async resolveTxt(name) {
		try {
			return (await resolveTxt(name)).map((chunks) => chunks.join(""));
		} catch (err) {
			const code = (err as { code?: unknown }).code;
			// No such name or no TXT records: an answer, not a failure.
			if (code === "ENOTFOUND" || code === "ENODATA") return [];
			throw err;
		}
	},
};
