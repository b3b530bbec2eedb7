export { Plangate, Customer, Team } from "./client.js";
export type { Schemas, CustomerType, TeamRole, CheckTarget, PostOptions } from "./client.js";
export type { ClientOptions, ApiKey } from "./transport.js";
export * from "./errors.js";
export type { paths, components } from "./schema.js";
export { Entitlements, EntitlementVerifier, OfflineEntitlements, parseJWKS } from "./entitlements.js";
export type { JWKS, JWKSSource, Clock, EntitlementTarget, VerifierOptions, OfflineOptions } from "./entitlements.js";
export { verifyWebhook, signWebhook } from "./webhooks.js";
export type { WebhookHeaders, VerifyOptions, VerifiedWebhook } from "./webhooks.js";
