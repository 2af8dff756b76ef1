/**
 * CI runners: org API keys, workload-identity trust rules and leases. Writes only the CI
 * tables (and audit rows); licenses are read through src/licenses/queries.ts.
 */
import { type ApiKeyView, createApiKey, listApiKeys, revokeApiKey } from "./api-keys";
import { authenticateCi, type CiCaller } from "./caller";
import type { CiDeps } from "./deps";
import {
	type AcquireInput,
	acquireLease,
	heartbeatLease,
	type LeaseView,
	releaseLease,
} from "./leases";
import {
	createTrustRule,
	listTrustRules,
	revokeTrustRule,
	type TrustRuleView,
} from "./trust-rules";

export type { ApiKeyView, CiCaller, LeaseView, TrustRuleView };

export interface TrustRuleInput {
	name: string;
	issuer: string;
	audience?: string | undefined;
	conditions: Record<string, string>;
}

export function ciService(deps: CiDeps) {
	return {
		createApiKey: (userId: string, orgId: string, name: string) =>
			createApiKey(deps, userId, orgId, name),
		listApiKeys: (userId: string, orgId: string) => listApiKeys(deps, userId, orgId),
		revokeApiKey: (userId: string, orgId: string, keyId: string) =>
			revokeApiKey(deps, userId, orgId, keyId),
		createTrustRule: (userId: string, orgId: string, input: TrustRuleInput) =>
			createTrustRule(deps, userId, orgId, input),
		listTrustRules: (userId: string, orgId: string) => listTrustRules(deps, userId, orgId),
		revokeTrustRule: (userId: string, orgId: string, ruleId: string) =>
			revokeTrustRule(deps, userId, orgId, ruleId),
		/** Bearer API key or CI ID token → a lease for the job (201 new, 200 the job's live one). */
		async acquire(
			bearer: string | null,
			input: AcquireInput & { org_id?: string | undefined },
		): Promise<{ created: boolean; lease: LeaseView }> {
			const caller = await authenticateCi(deps, bearer, { allowLease: false, orgId: input.org_id });
			if (caller.via === "lease") throw new Error("unreachable: lease tokens cannot lease");
			return acquireLease(deps, caller, input);
		},
		async heartbeat(bearer: string | null, leaseId: string, ttlS?: number): Promise<LeaseView> {
			const caller = await authenticateCi(deps, bearer, { allowLease: true });
			return heartbeatLease(deps, caller, leaseId, ttlS);
		},
		async release(bearer: string | null, leaseId: string): Promise<void> {
			const caller = await authenticateCi(deps, bearer, { allowLease: true });
			await releaseLease(deps, caller, leaseId);
		},
	};
}

export type CiService = ReturnType<typeof ciService>;
