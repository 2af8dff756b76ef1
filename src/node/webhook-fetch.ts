/**
 * Webhook delivery's fetch on the Node entry, closed against DNS rebinding: the URL check
 * (src/webhooks/ssrf.ts) sees only the name, so a public-looking name whose DNS answer is
 * 127.0.0.1, 10.x or 169.254.169.254 would pass it. Here the socket's own lookup resolves the
 * name, refuses the connection if *any* answer is outside the policy (a round-robin answer
 * mixing a public and a private address is refused, not retried until the private one wins),
 * and hands the socket exactly the addresses it checked: nothing resolves the name a second
 * time between check and connect. TLS still verifies the certificate against the name.
 *
 * An undici Agent of its own (no keep-alive pool shared with other traffic), used through
 * undici's fetch so the dispatcher and the fetch come from the same version.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { addressAllowed, type UrlPolicy } from "../webhooks/ssrf";

/** The error a refused answer fails the connection with; deliver.ts reports its reason. */
export class AddressNotAllowedError extends Error {
	readonly code = "WEBHOOK_ADDRESS_NOT_ALLOWED";
	constructor(readonly hostname: string) {
		super(`${hostname} resolves to an address webhooks may not reach`);
		this.name = "AddressNotAllowedError";
	}
}

/** `dns.lookup` with every answer, as the guard needs it; tests pass their own. */
export type ResolveAll = (
	hostname: string,
	callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolve: ResolveAll = (hostname, callback) =>
	dnsLookup(hostname, { all: true, verbatim: true } satisfies LookupAllOptions, callback);

/** A `net.connect` lookup that answers only addresses `policy` allows, else fails. */
export function guardedLookup(
	policy: UrlPolicy,
	resolve: ResolveAll = systemResolve,
): LookupFunction {
	return (hostname, options, callback) => {
		resolve(hostname, (err, addresses) => {
			if (err) return callback(err, "", 4);
			if (addresses.length === 0 || addresses.some((a) => !addressAllowed(a.address, policy))) {
				return callback(new AddressNotAllowedError(hostname), "", 4);
			}
			const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
			const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
			const [first] = usable;
			if (!first) return callback(new AddressNotAllowedError(hostname), "", 4);
			// net.connect asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily).
			if ((options as { all?: boolean }).all) {
				(callback as unknown as (e: null, list: LookupAddress[]) => void)(null, usable);
			} else {
				callback(null, first.address, first.family);
			}
		});
	};
}

/** A fetch for deliverDue whose connections go only to addresses `policy` allows. */
export function guardedWebhookFetch(policy: UrlPolicy, resolve?: ResolveAll): typeof fetch {
	const agent = new Agent({
		connect: { lookup: guardedLookup(policy, resolve) },
		// Deliveries are minutes apart per endpoint: no idle sockets kept for long.
		keepAliveTimeout: 4_000,
	});
	return ((input: string | URL, init?: RequestInit) =>
		undiciFetch(input, {
			...(init as Parameters<typeof undiciFetch>[1]),
			dispatcher: agent,
		})) as unknown as typeof fetch;
}
