/**
 * `has()` without a request per check: verify a plangate entitlement token once against the
 * JWKS, then answer from memory until it expires.
 *
 * The token is EdDSA (Ed25519) with a `kid` naming a key of plangate's JWKS
 * (`/.well-known/jwks.json`); its claims are `iss`, `sub` (`user/u1`), `customer_type`,
 * `customer_id`, `plans`, `features`, `iat` and `exp`. When plangate rotates its signing key,
 * a token names a `kid` the verifier has not seen: it fetches the JWKS again, at most once per
 * `refreshIntervalMs`, so made-up `kid` values cannot flood plangate.
 */
import { decodeProtectedHeader, errors as jose, importJWK, jwtVerify, type JWK, type KeyLike } from "jose";
import type { Plangate, CustomerType } from "./client.js";
import { APIConnectionError, InvalidTokenError } from "./errors.js";

const ALGORITHM = "EdDSA";

export interface JWKS {
  keys: Record<string, unknown>[];
}
/** A JWKS URL, a JWKS document, or a function returning one (e.g. `() => plangate.jwks()`). */
export type JWKSSource = string | JWKS | (() => Promise<JWKS>);
/** Seconds since the epoch. */
export type Clock = () => number;
const systemClock: Clock = () => Date.now() / 1000;

export type EntitlementTarget = { feature: string } | { plan: string };

/** A verified snapshot of one customer's plans and features, valid until `expiresAt`. */
export class Entitlements {
  constructor(
    readonly customerType: string,
    readonly customerId: string,
    readonly plans: ReadonlySet<string>,
    readonly features: ReadonlySet<string>,
    readonly issuedAt: number,
    readonly expiresAt: number,
  ) {}

  /** A set membership, no I/O. */
  has(target: EntitlementTarget): boolean {
    return "feature" in target ? this.features.has(target.feature) : this.plans.has(target.plan);
  }
}

export interface VerifierOptions {
  jwks: JWKSSource;
  /** The `iss` plangate signs with: its `PLANGATE_BASE_URL`. */
  issuer: string;
  leewaySeconds?: number;
  clock?: Clock;
  /** Cool-down between two JWKS fetches caused by unknown keys (default 10 s). */
  refreshIntervalMs?: number;
  maxCached?: number;
  fetch?: typeof fetch;
}

function tokenError(code: string, message: string): InvalidTokenError {
  return new InvalidTokenError(message, { code, type: "authentication_error" });
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

export class EntitlementVerifier {
  readonly issuer: string;
  private readonly leeway: number;
  private readonly clock: Clock;
  private readonly refreshIntervalMs: number;
  private readonly maxCached: number;
  private readonly fetchImpl: typeof fetch;
  private readonly source: JWKSSource;
  private keys = new Map<string, KeyLike | Uint8Array>();
  private fetchedAt: number | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly cache = new Map<string, Entitlements>();

  constructor(options: VerifierOptions) {
    this.issuer = options.issuer;
    this.leeway = options.leewaySeconds ?? 0;
    this.clock = options.clock ?? systemClock;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 10_000;
    this.maxCached = options.maxCached ?? 10_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.source = options.jwks;
  }

  /** The verified entitlements of `token`; a map lookup once it has been verified. */
  async verify(token: string): Promise<Entitlements> {
    const cached = this.cache.get(token);
    if (cached !== undefined && cached.expiresAt + this.leeway > this.clock()) return cached;
    this.cache.delete(token);
    const entitlements = await this.decode(token);
    if (this.cache.size >= this.maxCached) this.evict();
    this.cache.set(token, entitlements);
    return entitlements;
  }

  clear(): void {
    this.cache.clear();
  }

  private evict(): void {
    const now = this.clock();
    for (const [token, entry] of this.cache) {
      if (entry.expiresAt + this.leeway <= now) this.cache.delete(token);
    }
    if (this.cache.size >= this.maxCached) this.cache.clear();
  }

  private async decode(token: string): Promise<Entitlements> {
    let kid: unknown;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== ALGORITHM) {
        throw tokenError("token_algorithm_invalid", `entitlement tokens are signed with ${ALGORITHM}, not ${String(header.alg)}`);
      }
      kid = header.kid;
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      throw tokenError("token_malformed", `not a JWT: ${String(error)}`);
    }
    const key = await this.key(kid);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        requiredClaims: ["iss", "sub", "iat", "exp"],
        currentDate: new Date(this.clock() * 1000),
        clockTolerance: this.leeway,
      }));
    } catch (error) {
      throw this.verificationError(error);
    }
    const { customer_type: type, customer_id: id, plans = [], features = [], iat, exp } = payload;
    if (
      typeof type !== "string" ||
      typeof id !== "string" ||
      payload.sub !== `${type}/${id}` ||
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      !isStringList(plans) ||
      !isStringList(features)
    ) {
      throw tokenError("token_claims_invalid", "the token's claims are not plangate's");
    }
    return new Entitlements(type, id, new Set(plans), new Set(features), iat, exp);
  }

  private verificationError(error: unknown): InvalidTokenError {
    if (error instanceof jose.JWTExpired) return tokenError("token_expired", "the entitlement token has expired");
    if (error instanceof jose.JWSSignatureVerificationFailed) {
      return tokenError("token_signature_invalid", "the signature does not verify");
    }
    if (error instanceof jose.JWTClaimValidationFailed) {
      if (error.claim === "iss") return tokenError("token_issuer_invalid", `the token was not issued by ${this.issuer}`);
      if (error.claim === "iat" || error.claim === "nbf") {
        return tokenError("token_not_yet_valid", "the token is issued in the future");
      }
      return tokenError("token_claims_invalid", error.message);
    }
    return tokenError("token_invalid", String(error));
  }

  // --- keys ------------------------------------------------------------------------------

  private async key(kid: unknown): Promise<KeyLike | Uint8Array> {
    if (typeof kid !== "string") throw tokenError("token_key_unknown", "the token names no key (kid)");
    let key = this.keys.get(kid);
    if (key === undefined && this.mayRefresh()) {
      this.refreshing ??= this.refresh().finally(() => {
        this.refreshing = null;
      });
      await this.refreshing;
      key = this.keys.get(kid);
    }
    if (key === undefined) throw tokenError("token_key_unknown", `no key ${kid} in plangate's JWKS`);
    return key;
  }

  private mayRefresh(): boolean {
    if (this.refreshing) return true;
    if (typeof this.source === "object" && this.fetchedAt !== null) return false;
    return this.fetchedAt === null || Date.now() - this.fetchedAt >= this.refreshIntervalMs;
  }

  private async refresh(): Promise<void> {
    let document: JWKS;
    try {
      document = await this.fetchJWKS();
    } finally {
      this.fetchedAt = Date.now();
    }
    this.keys = await parseJWKS(document);
  }

  private async fetchJWKS(): Promise<JWKS> {
    const source = this.source;
    if (typeof source === "function") return source();
    if (typeof source === "object") return source;
    let document: unknown;
    try {
      const response = await this.fetchImpl(source, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = await response.json();
    } catch (error) {
      throw new APIConnectionError(`could not fetch the JWKS at ${source}: ${String(error)}`, {
        code: "jwks_unavailable",
        type: "api_connection_error",
      });
    }
    if (typeof document !== "object" || document === null || !Array.isArray((document as JWKS).keys)) {
      throw new APIConnectionError(`${source} is not a JWKS`, { code: "jwks_unavailable", type: "api_connection_error" });
    }
    return document as JWKS;
  }
}

/** The Ed25519 signing keys of a JWKS by `kid`; other keys are ignored. */
export async function parseJWKS(document: JWKS): Promise<Map<string, KeyLike | Uint8Array>> {
  const keys = new Map<string, KeyLike | Uint8Array>();
  for (const jwk of document.keys) {
    const { kid, kty, crv, use } = jwk;
    if (typeof kid !== "string" || kty !== "OKP" || crv !== "Ed25519" || (use ?? "sig") !== "sig") continue;
    try {
      keys.set(kid, await importJWK(jwk as unknown as JWK, ALGORITHM));
    } catch {
      continue;
    }
  }
  return keys;
}

export interface OfflineOptions {
  verifier?: EntitlementVerifier;
  /** Default: the client's base URL, what plangate signs with when its `PLANGATE_BASE_URL` is
   * the address you call. */
  issuer?: string;
  /** Fetch a new token this many seconds before the current one expires (default 30). */
  refreshBeforeSeconds?: number;
  clock?: Clock;
}

/**
 * `has()` for a backend (or a browser with a customer-session token) without a request per
 * check: each customer's token is fetched once, verified, and answers until shortly before
 * it expires. Answers are as fresh as the token (5 minutes by default on the server): call
 * `invalidate()` after your own grants and purchases.
 */
export class OfflineEntitlements {
  readonly verifier: EntitlementVerifier;
  private readonly refreshBefore: number;
  private readonly clock: Clock;
  private readonly byCustomer = new Map<string, Entitlements>();

  constructor(
    private readonly client: Plangate,
    options: OfflineOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.verifier =
      options.verifier ??
      new EntitlementVerifier({ jwks: () => client.jwks(), issuer: options.issuer ?? client.baseUrl, clock: this.clock });
    this.refreshBefore = options.refreshBeforeSeconds ?? 30;
  }

  /** The customer's entitlements if a token for them is held and not about to expire: no
   * I/O, for a synchronous render. */
  cached(customerType: CustomerType, customerId: string): Entitlements | undefined {
    const current = this.byCustomer.get(`${customerType}/${customerId}`);
    return current !== undefined && current.expiresAt - this.refreshBefore > this.clock() ? current : undefined;
  }

  async entitlements(customerType: CustomerType, customerId: string): Promise<Entitlements> {
    const current = this.cached(customerType, customerId);
    if (current !== undefined) return current;
    const { token } = await this.client.customer(customerType, customerId).entitlementToken();
    const fresh = await this.verifier.verify(token);
    if (fresh.customerType !== customerType || fresh.customerId !== customerId) {
      throw tokenError(
        "token_customer_mismatch",
        `the token is for ${fresh.customerType}/${fresh.customerId}, not ${customerType}/${customerId}`,
      );
    }
    this.byCustomer.set(`${customerType}/${customerId}`, fresh);
    return fresh;
  }

  /** Not an async function: a cached answer costs one map lookup and one resolved promise. */
  has(customerType: CustomerType, customerId: string, target: EntitlementTarget): Promise<boolean> {
    const current = this.cached(customerType, customerId);
    if (current !== undefined) return Promise.resolve(current.has(target));
    return this.entitlements(customerType, customerId).then((entitlements) => entitlements.has(target));
  }

  /** Forgets a customer's token: the next check fetches a fresh one. */
  invalidate(customerType: CustomerType, customerId: string): void {
    this.byCustomer.delete(`${customerType}/${customerId}`);
  }
}
