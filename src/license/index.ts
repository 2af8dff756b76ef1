/**
 * The license domain shared by the server and the CLI: key format and hashing, token
 * signing and verification. Pure WebCrypto — no Hono, drizzle, Cloudflare or `node:` imports.
 */

export * from "./base64url";
export * from "./key";
export * from "./token";
