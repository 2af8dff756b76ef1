/**
 * A CI job's OIDC ID token (GitHub Actions, GitLab, …) checked with `jose` against the
 * issuer's own discovery document and JWKS: signature, `iss`, `aud`, `exp`, then the org's
 * trust rule conditions. Only issuers some trust rule names are ever fetched, so a token
 * naming an arbitrary `iss` makes us fetch nothing.
 */
import {
	createLocalJWKSet,
	decodeJwt,
	decodeProtectedHeader,
	errors,
	type JSONWebKeySet,
	jwtVerify,
} from "jose";
import { ApiError } from "../errors";
import type { CiDeps } from "./deps";
import { conditionsHold, liveRulesFor } from "./trust-rules";

/** Asymmetric algorithms only: never `none`, never an HMAC keyed by something public. */
const ALGORITHMS = [
	"RS256",
	"RS384",
	"RS512",
	"PS256",
	"PS384",
	"PS512",
	"ES256",
	"ES384",
	"EdDSA",
];
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** An unknown `kid` refetches the JWKS (key rotation), at most this often per issuer. */
const JWKS_REFRESH_COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

/**
 * Key sets by issuer, per isolate / process. Plain JSON with our own expiry rather than
 * jose's createRemoteJWKSet: its shared in-flight fetch would be awaited across requests,
 * which workerd does not allow for I/O started by another request.
 */
const keySets = new Map<string, { jwks: JSONWebKeySet; fetchedAt: number }>();

export type OidcOutcome =
	| { ok: true; claims: Record<string, unknown>; rules: Array<{ id: string; orgId: string }> }
	| { ok: false; reason: string };

async function fetchJson(url: string): Promise<unknown> {
	const res = await fetch(url, {
		headers: { accept: "application/json" },
		// No redirects: the keys come from where discovery said ("error" is not offered by workerd).
		redirect: "manual",
		signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
	});
	if (!res.ok) throw new Error(`${url} answered ${res.status}`);
	return res.json();
}

async function loadKeySet(issuer: string): Promise<JSONWebKeySet> {
	const discovery = (await fetchJson(
		`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`,
	)) as { issuer?: unknown; jwks_uri?: unknown };
	// OpenID Discovery §4.3: the document must name the issuer it was fetched for.
	if (discovery.issuer !== issuer || typeof discovery.jwks_uri !== "string") {
		throw new Error("discovery document does not match the issuer");
	}
	const jwks = (await fetchJson(discovery.jwks_uri)) as JSONWebKeySet;
	if (!jwks || !Array.isArray(jwks.keys)) throw new Error("jwks_uri did not return a key set");
	keySets.set(issuer, { jwks, fetchedAt: Date.now() });
	return jwks;
}

async function keySetFor(issuer: string, kid: string | undefined): Promise<JSONWebKeySet> {
	const cached = keySets.get(issuer);
	const age = cached ? Date.now() - cached.fetchedAt : Number.POSITIVE_INFINITY;
	const knowsKid = !kid || cached?.jwks.keys.some((k) => k.kid === kid);
	if (cached && age < JWKS_MAX_AGE_MS && (knowsKid || age < JWKS_REFRESH_COOLDOWN_MS)) {
		return cached.jwks;
	}
	try {
		return await loadKeySet(issuer);
	} catch (err) {
		if (cached) return cached.jwks;
		console.error("ci oidc: issuer keys unavailable:", err instanceof Error ? err.message : err);
		throw new ApiError(
			"BAD_GATEWAY",
			"The CI provider's signing keys could not be fetched. Try again shortly.",
		);
	}
}

/**
 * Verifies `token` and finds the trust rules it satisfies. A refusal is a result naming the
 * reason (for the audit log), never the token.
 */
export async function verifyCiIdToken(deps: CiDeps, token: string): Promise<OidcOutcome> {
	let iss: unknown;
	let kid: string | undefined;
	try {
		iss = decodeJwt(token).iss;
		kid = decodeProtectedHeader(token).kid;
	} catch {
		return { ok: false, reason: "malformed_token" };
	}
	if (typeof iss !== "string" || iss === "") return { ok: false, reason: "no_issuer" };
	const rules = await liveRulesFor(deps, iss);
	if (rules.length === 0) return { ok: false, reason: "untrusted_issuer" };
	const jwks = await keySetFor(iss, kid);
	let claims: Record<string, unknown>;
	try {
		const verified = await jwtVerify(token, createLocalJWKSet(jwks), {
			issuer: iss,
			audience: [...new Set(rules.map((r) => r.audience))],
			algorithms: ALGORITHMS,
			requiredClaims: ["exp"],
			clockTolerance: 30,
		});
		claims = verified.payload as Record<string, unknown>;
	} catch (err) {
		return { ok: false, reason: failureReason(err) };
	}
	const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
	const matching = rules.filter(
		(r) => audiences.includes(r.audience) && conditionsHold(r.conditions, claims),
	);
	if (matching.length === 0) return { ok: false, reason: "no_matching_rule" };
	return { ok: true, claims, rules: matching.map((r) => ({ id: r.id, orgId: r.orgId })) };
}

function failureReason(err: unknown): string {
	if (err instanceof errors.JWTExpired) return "expired";
	if (err instanceof errors.JWTClaimValidationFailed) return `claim_${err.claim}`;
	if (err instanceof errors.JOSEAlgNotAllowed) return "algorithm_not_allowed";
	if (err instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
	if (err instanceof errors.JWKSNoMatchingKey) return "unknown_key";
	return "invalid_token";
}
