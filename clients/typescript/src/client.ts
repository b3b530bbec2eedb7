/**
 * The plangate client: one class for a server (secret key) and a browser (customer-session
 * token). Calls about one customer live on its handle, `plangate.customer("user", "ada")`.
 * Request and response shapes are the API document's (`schema.ts`), field names as on the wire.
 */
import type { components } from "./schema.js";
import { Transport, type ClientOptions } from "./transport.js";

export type Schemas = components["schemas"];
export type CustomerType = "user" | "team" | "custom";
export type TeamRole = "admin" | "member";
/** What `check()` asks: a feature, a plan, or an item with the quantity needed. */
export type CheckTarget = { feature: string } | { plan: string } | { item: string; quantity?: number };

export interface PostOptions {
  /** Makes a repeat of this call take effect once (default: a fresh key, kept across retries). */
  idempotencyKey?: string;
}

const CUSTOMER = "/v1/customers/{customer_type}/{customer_id}" as const;

export class Plangate {
  readonly http: Transport;

  constructor(options: ClientOptions) {
    this.http = new Transport(options);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** A handle on one customer: every customer-scoped call, without repeating the address. */
  customer(customerType: CustomerType, customerId: string): Customer {
    return new Customer(this.http, customerType, customerId);
  }

  team(teamId: string): Team {
    return new Team(this.http, teamId);
  }

  /** A product line's public price list, what the hosted pricing page shows (no credentials
   * needed: any key or token works). */
  getPricing(lineId: string): Promise<Schemas["PricingOut"]> {
    return this.http.call("get", "/v1/pricing/{line_id}", { path: { line_id: lineId } });
  }

  getCatalog(): Promise<Schemas["CatalogOut"]> {
    return this.http.call("get", "/v1/catalog");
  }

  /** Applies a catalog (server only): TOML text, or the catalog as an object. */
  applyCatalog(catalog: string | Record<string, unknown>): Promise<Schemas["CatalogApplied"]> {
    const raw =
      typeof catalog === "string"
        ? { content: catalog, contentType: "application/toml" }
        : { content: JSON.stringify(catalog), contentType: "application/json" };
    return this.http.call("put", "/v1/catalog", { raw });
  }

  /** Starts a Stripe Checkout: send the customer to `url`. The success page polls
   * `getCheckoutSession(id)`; the redirect itself grants nothing. */
  createCheckout(
    body: Schemas["CheckoutSessionIn"],
    options: PostOptions = {},
  ): Promise<Schemas["CheckoutSessionCreated"]> {
    return this.http.call("post", "/v1/checkout-sessions", { body, ...options });
  }

  getCheckoutSession(sessionId: string): Promise<Schemas["CheckoutSessionOut"]> {
    return this.http.call("get", "/v1/checkout-sessions/{session_id}", { path: { session_id: sessionId } });
  }

  /** Mints a short-lived token for one user (and its team roles) to hand to the browser
   * (server only). */
  createCustomerSession(
    body: Schemas["CustomerSessionIn"],
    options: PostOptions = {},
  ): Promise<Schemas["CustomerSessionOut"]> {
    return this.http.call("post", "/v1/customer-sessions", { body, ...options });
  }

  /** A signed entitlement token: the caller's own (client), a team's (`team_id`), or any
   * customer's (server). Verify it offline with `EntitlementVerifier`. */
  entitlementToken(
    query: { customer_type?: CustomerType; customer_id?: string; team_id?: string } = {},
  ): Promise<Schemas["EntitlementTokenOut"]> {
    return this.http.call("get", "/v1/entitlement-token", { query });
  }

  /** The keys that verify entitlement tokens. */
  jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    return this.http.call("get", "/.well-known/jwks.json") as Promise<{ keys: Record<string, unknown>[] }>;
  }

  /** Payments and refunds across customers (server only). */
  transactions(
    query: { customer_type?: CustomerType; customer_id?: string; type?: string; limit?: number; cursor?: string } = {},
  ): Promise<Schemas["TransactionList"]> {
    return this.http.call("get", "/v1/transactions", { query });
  }

  refund(body: Schemas["RefundIn"], options: PostOptions = {}): Promise<Schemas["RefundOut"]> {
    return this.http.call("post", "/v1/refunds", { body, ...options });
  }
}

export class Customer {
  private readonly path: { customer_type: CustomerType; customer_id: string };

  constructor(
    private readonly http: Transport,
    readonly customerType: CustomerType,
    readonly customerId: string,
  ) {
    this.path = { customer_type: customerType, customer_id: customerId };
  }

  /** Creates or updates the customer (email, name, metadata). */
  upsert(body: Schemas["CustomerUpsert"] = {}): Promise<Schemas["CustomerOut"]> {
    return this.http.call("put", CUSTOMER, { path: this.path, body });
  }

  get(): Promise<Schemas["CustomerOut"]> {
    return this.http.call("get", CUSTOMER, { path: this.path });
  }

  entitlements(): Promise<Schemas["EntitlementsOut"]> {
    return this.http.call("get", `${CUSTOMER}/entitlements`, { path: this.path });
  }

  /** The hot path: may the customer use a feature, is it on a plan, does it hold enough of
   * an item? */
  check(target: CheckTarget): Promise<Schemas["CheckOut"]> {
    return this.http.call("get", `${CUSTOMER}/check`, { path: this.path, query: target });
  }

  async has(target: CheckTarget): Promise<boolean> {
    return (await this.check(target)).allowed;
  }

  products(): Promise<Schemas["ProductList"]> {
    return this.http.call("get", `${CUSTOMER}/products`, { path: this.path });
  }

  /** Grants a catalog product (`product_id`) or an inline one (`product`) (server only). */
  grant(body: Schemas["GrantIn"], options: PostOptions = {}): Promise<Schemas["GrantOut"]> {
    return this.http.call("post", `${CUSTOMER}/products`, { path: this.path, body, ...options });
  }

  /** Cancels a subscription at period end (now with `immediately`), or revokes a grant. */
  cancel(productId: string, options: { immediately?: boolean } = {}) {
    return this.http.call("delete", `${CUSTOMER}/products/{product_id}`, {
      path: { ...this.path, product_id: productId },
      query: options,
    });
  }

  /** Takes back a cancellation at period end. */
  resume(productId: string, options: PostOptions = {}): Promise<Schemas["CancelledOut"]> {
    return this.http.call("post", `${CUSTOMER}/products/{product_id}/resume`, {
      path: { ...this.path, product_id: productId },
      ...options,
    });
  }

  /** Moves between products of a line: upgrades now with proration, downgrades at period end. */
  switch(body: Schemas["SwitchIn"], options: PostOptions = {}): Promise<Schemas["PlanChangeOut"]> {
    return this.http.call("post", `${CUSTOMER}/products/switch`, { path: this.path, body, ...options });
  }

  item(itemId: string): Promise<Schemas["ItemOut"]> {
    return this.http.call("get", `${CUSTOMER}/items/{item_id}`, { path: { ...this.path, item_id: itemId } });
  }

  /** Adds to or takes from an item's balance (server only). */
  changeItem(itemId: string, body: Schemas["ItemChangeIn"], options: PostOptions = {}): Promise<Schemas["ItemChanged"]> {
    return this.http.call("post", `${CUSTOMER}/items/{item_id}/changes`, {
      path: { ...this.path, item_id: itemId },
      body,
      ...options,
    });
  }

  /** Takes `quantity` from the balance atomically, or throws `InsufficientQuantityError` and
   * takes nothing. */
  consume(
    itemId: string,
    quantity: number,
    options: PostOptions & { description?: string } = {},
  ): Promise<Schemas["ItemChanged"]> {
    const { description, ...post } = options;
    return this.http.call("post", `${CUSTOMER}/items/{item_id}/consume`, {
      path: { ...this.path, item_id: itemId },
      body: { quantity, description: description ?? null },
      ...post,
    });
  }

  /** Starts a Stripe Checkout for this customer. */
  checkout(
    body: Omit<Schemas["CheckoutSessionIn"], "customer_type" | "customer_id">,
    options: PostOptions = {},
  ): Promise<Schemas["CheckoutSessionCreated"]> {
    return this.http.call("post", "/v1/checkout-sessions", {
      body: { ...body, ...this.path },
      ...options,
    });
  }

  /** A link to Stripe's customer portal. */
  portalSession(body: Schemas["PortalIn"], options: PostOptions = {}): Promise<Schemas["PortalOut"]> {
    return this.http.call("post", `${CUSTOMER}/portal-sessions`, { path: this.path, body, ...options });
  }

  billing(): Promise<Schemas["BillingOut"]> {
    return this.http.call("get", `${CUSTOMER}/billing`, { path: this.path });
  }

  /** Starts saving a card (a Stripe SetupIntent). */
  setupIntent(body: Schemas["SetupIn"] = {}, options: PostOptions = {}): Promise<Schemas["SetupOut"]> {
    return this.http.call("post", `${CUSTOMER}/setup-intents`, { path: this.path, body, ...options });
  }

  setDefaultPaymentMethod(paymentMethodId: string, options: PostOptions = {}) {
    return this.http.call("post", `${CUSTOMER}/payment-methods/default`, {
      path: this.path,
      body: { payment_method_id: paymentMethodId },
      ...options,
    });
  }

  /** One page of invoices, newest first; pass `next_cursor` back for the next. */
  invoices(query: { limit?: number; cursor?: string } = {}): Promise<Schemas["InvoiceList"]> {
    return this.http.call("get", `${CUSTOMER}/invoices`, { path: this.path, query });
  }

  /** Every invoice, page after page. */
  async *allInvoices(pageSize = 50): AsyncGenerator<Schemas["InvoiceOut"]> {
    let cursor: string | undefined;
    do {
      const page = await this.invoices({ limit: pageSize, ...(cursor ? { cursor } : {}) });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /** This customer's own entitlement token (see `Plangate.entitlementToken`). */
  entitlementToken(): Promise<Schemas["EntitlementTokenOut"]> {
    return this.http.call("get", "/v1/entitlement-token", { query: this.path });
  }
}

export class Team {
  constructor(
    private readonly http: Transport,
    readonly teamId: string,
  ) {}

  members(): Promise<Schemas["MemberList"]> {
    return this.http.call("get", "/v1/teams/{team_id}/members", { path: { team_id: this.teamId } });
  }

  /** Adds a member or changes its role; respects the team's seat limit. */
  setMember(userId: string, role: TeamRole): Promise<Schemas["MemberOut"]> {
    return this.http.call("put", "/v1/teams/{team_id}/members/{user_id}", {
      path: { team_id: this.teamId, user_id: userId },
      body: { role },
    });
  }

  async removeMember(userId: string): Promise<void> {
    await this.http.call("delete", "/v1/teams/{team_id}/members/{user_id}", {
      path: { team_id: this.teamId, user_id: userId },
    });
  }
}
