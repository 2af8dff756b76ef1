/**
 * The license kernel shared by the server and the CLI: license-key format and hashing, token
 * claims, keys, signing and verification, validity rules. Pure WebCrypto — no Hono, drizzle,
 * Cloudflare or `node:` imports. The CLI imports the files it runs, never this barrel.
 */

export * from "./base64url";
export * from "./license-key";
export * from "./token/ci";
export * from "./token/claims";
export * from "./token/keys";
export * from "./token/offline";
export * from "./token/release";
export * from "./token/sign";
export * from "./token/verify";
