"""What each operation does, in words for API users: the descriptions of the API document
(api/openapi.py). The handlers' docstrings are notes for the people maintaining them."""

from __future__ import annotations

from plangate.api.operation_docs import WH, C

DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("GET", "/"): "Where to start: links to this reference, the OpenAPI document and the "
    "health check.",
    ("GET", "/healthz"): "Readiness: 200 when the database answers and its schema is current; "
    "503 `starting` while the dev stack sets up, or `schema_missing`/`schema_behind` (run "
    "`plangate migrate`). `worker_lag_seconds` is how long the oldest due Stripe event has "
    "waited; past `PLANGATE_HEALTH_MAX_LAG_SECONDS` (when set) the answer is 503 "
    "`worker_behind`.",
    ("GET", "/v1/catalog"): "The active catalog (features, items, product lines, products) "
    "and its version.",
    ("PUT", "/v1/catalog"): "Apply a catalog: TOML (`application/toml`) or JSON. An invalid "
    "catalog is 422 `catalog_invalid` with every problem listed, and nothing changes; the "
    "same content applied twice creates no new version.",
    ("PUT", C): "Create or update a customer. Fields left out are kept; `metadata` replaces "
    "the stored metadata (Stripe's limits: 50 keys, 40-character keys, 500-character values).",
    ("GET", C): "A customer: email, name, metadata and whether it has a payment customer.",
    ("GET", C + "/entitlements"): "Everything the customer holds now: plans, features, item "
    "balances and products.",
    ("GET", C + "/check"): "May the customer do this now? Give exactly one of `feature`, "
    "`plan` or `item` (with the `quantity` needed). A name the catalog does not define "
    "answers `allowed: false` with `reason` (`unknown_feature`, `unknown_plan`, "
    "`unknown_item`), so removing a feature never breaks a caller. The fast path: one read.",
    ("GET", C + "/products"): "The products the customer holds, each line's default "
    "included, with how they are held and what they may switch to.",
    ("POST", C + "/products"): "Grant a product without payment (server only): a catalog "
    "product by `product_id`, or an inline definition in `product`.",
    ("DELETE", C + "/products/{product_id}"): "Cancel a subscription, at the period end "
    "unless `immediately=true`, or revoke a grant or one-time purchase (server only).",
    ("GET", C + "/items/{item_id}"): "The customer's balance of an item, and when it next "
    "refills.",
    ("POST", C + "/items/{item_id}/changes"): "Add (`delta` > 0, optionally expiring at "
    "`expires_at`, which needs a UTC offset) or remove a quantity (server only).",
    ("POST", C + "/items/{item_id}/consume"): "Take `quantity` or nothing: 200 with the "
    "remaining balance, or 409 `insufficient_quantity` and nothing consumed (server only).",
    ("POST", C + "/usage"): "Record usage of a catalog meter: `quantity` units at "
    "`occurred_at` (default now; within the last 30 days and 5 minutes ahead). `event_id` is "
    "the app's id of the event, unique per customer: the same id again answers 200 with "
    "`duplicate: true` and counts once (with other values: 409 `usage_event_reused`). On a "
    "team, `user_id` names the member whose usage it is (409 `not_a_team_member`); the team "
    "is billed for all its members' usage. A meter with a `limit_item` consumes the usage "
    "from that item's balance in the same transaction, or answers 409 `usage_limit_reached` "
    "and records nothing. Recorded usage is reported to Stripe's meter in the background "
    "(server only).",
    ("GET", C + "/usage"): "The current billing period's usage of each catalog meter (the "
    "period of the customer's subscription that bills the meter, else the calendar month), "
    "as the meter aggregates it, with a team's usage by member.",
    ("GET", "/v1/teams/{team_id}/members"): "The team's members and its seats (the server, "
    "or a member of the team).",
    ("PUT", "/v1/teams/{team_id}/members/{user_id}"): "Add a member (201, needs a free seat: "
    "else 409 `seat_limit_reached`) or change its role (200). The server, or a team admin.",
    ("DELETE", "/v1/teams/{team_id}/members/{user_id}"): "Remove a member, freeing its seat. "
    "The server, a team admin, or the member itself.",
    ("POST", "/v1/customer-sessions"): "Mint a short-lived client token for one user and its "
    "team roles (server only). Nothing is stored.",
    ("GET", "/v1/entitlement-token"): "A signed JWT (EdDSA) of the customer's plans and "
    "features, verifiable offline with `/.well-known/jwks.json`. A client gets its own or a "
    "team's (`team_id`); the server names the customer.",
    ("GET", "/.well-known/jwks.json"): "The public keys that verify entitlement tokens.",
    ("POST", "/v1/checkout-sessions"): "A Stripe Checkout Session for one product; send the "
    "customer to `url`. Paying grants the product through Stripe's webhooks. A catalog "
    "`promotion_code` discounts it; `allow_promotion_codes` lets the customer type one on "
    "Stripe's page instead.",
    ("GET", "/v1/checkout-sessions/{session_id}"): "A checkout's status and whether its "
    "purchase is fulfilled; what a success page polls. On Stripe, a session not fulfilled "
    "yet is synced by the poll itself (at most once every 2 seconds per session), so a "
    "paid checkout does not wait for its webhook. Without credentials the customer "
    "fields are null.",
    ("GET", "/v1/pricing/{line_id}"): "A product line's public price list: the plans a "
    "customer can buy (server-only products left out) and the line's default, each with "
    "its features, items in words and prices per interval and currency as integer minor "
    "units, with what a yearly price saves against twelve monthly ones. No credentials; "
    "browsers on `PLANGATE_CORS_ORIGINS` may read it. What the embeddable pricing table "
    "renders.",
    ("POST", C + "/products/switch"): "Switch a subscription to another product of its line: "
    "an upgrade now with a prorated invoice, a downgrade at the period end.",
    ("POST", C + "/products/switch/preview"): "What the same switch would do and cost, "
    "changing nothing: the amount due now and the next invoice, in minor units, from the "
    "purchase backend's invoice preview.",
    ("POST", C + "/products/{product_id}/resume"): "Take back a cancellation at the period "
    "end: the subscription renews again.",
    ("POST", C + "/portal-sessions"): "A link to Stripe's billing portal that returns to "
    "`return_url` (an allowed origin).",
    ("GET", C + "/conflicts"): "Subscriptions the sync refused to let grant (a second paid "
    "subscription in a product line, or a product the customer may not own), newest first, "
    "with how each was resolved. Server key only.",
    ("GET", C + "/billing"): "Whether the customer can be charged, and its saved cards.",
    ("POST", C + "/setup-intents"): "Start saving a card: a hosted page (`url`, with "
    "`return_url`) or a SetupIntent (`client_secret`, for Stripe.js).",
    ("POST", C + "/payment-methods/default"): "Make a saved card the one renewals and "
    "upgrades charge.",
    ("GET", C + "/billing-details"): "The customer's billing address, the name invoices "
    "show and its tax ids (with Stripe's verification), read from its Stripe customer.",
    ("PUT", C + "/billing-details"): "Set the billing address, the name invoices show and the "
    "complete list of tax ids on the customer's Stripe customer (made if needed); automatic "
    "tax computes from this address. Refused as a whole: an unknown country, an unknown tax "
    "id type, or a value Stripe refuses changes nothing.",
    ("GET", C + "/invoices"): "The customer's invoices, newest first, with their tax; pass "
    "`next_cursor` as `cursor` for the next page.",
    ("GET", "/v1/transactions"): "Payments, refunds and disputes, newest first, filtered by "
    "customer, `type`, `currency` and creation time in [`created_from`, `created_to`) "
    "(server only).",
    ("POST", "/v1/refunds"): "Refund a payment in full or in part, named by "
    "`payment_intent_id`, `invoice_id` or `transaction_id` (server only).",
    ("GET", "/v1/admin/customers"): "Every customer, newest first; `q` matches a part of the "
    "id, email or name, whatever the case. Pass `next_cursor` as `cursor` for the next page "
    "(server only).",
    ("GET", "/v1/admin/ownerships"): "Every ownership (subscriptions, one-time purchases, "
    "grants), newest first, filtered by customer, product, line, status, `source`, `trial` "
    "and `cancel_at_period_end`; live ones only unless `ended` is given (server only).",
    ("GET", "/v1/admin/stripe-events"): "Stripe events as received, newest first, with "
    "their status (`pending`, `done`, `failed`), attempts and last error (server only).",
    ("POST", "/v1/admin/stripe-events/{event_id}/retry"): "Put a Stripe event back in the "
    "sync's queue, due now with a fresh count of attempts; recorded in the audit log "
    "(server only).",
    ("GET", "/v1/admin/webhook-deliveries"): "Outbound webhook deliveries, newest first, "
    "filtered by `status` (`pending`, `delivered`, `failed`) and `endpoint` (a webhook "
    "endpoint's id), with their attempts, last error and next attempt. Pass `next_cursor` as "
    "`cursor` for the next page (server only).",
    ("POST", "/v1/admin/webhook-deliveries/{delivery_id}/retry"): "Send a delivered or failed "
    "webhook delivery again, due now with a fresh schedule; recorded in the audit log. One "
    "still pending is 409 `webhook_delivery_pending` (server only).",
    ("GET", "/v1/admin/audit-log"): "Operator actions newest first: who did what to what, "
    "with the state before and after (server only).",
    ("GET", "/v1/admin/figures"): "The business from plangate's own records: MRR and ARR per "
    "currency (yearly, weekly and daily prices spread over months; trials count once they "
    "pay), subscriptions by status, trials, churn and failed payments this calendar month, "
    "past-due customers, and per day over the last `days` days the net revenue per currency "
    "and the quantity consumed per item (server only).",
    ("GET", "/v1/admin/figures/mrr-history"): "MRR per currency at the end of each of the "
    "last `days` days (1 to 366; today's point is now, and equals the MRR of "
    "`/v1/admin/figures`), oldest first: the subscriptions paying then, from their start or "
    "trial end until they ended, each at its current price. A bad `days` is 400 "
    "`days_invalid` (server only).",
    ("GET", "/v1/admin/balance"): "The Stripe account's balance per currency, read from "
    "Stripe: what is `available` to pay out and what is still `pending`, in minor units. In "
    "test mode (no Stripe) 409 `test_mode` (server only).",
    ("GET", "/v1/admin/payouts"): "Payouts to the account's bank, newest first, read from "
    "Stripe: amount, status and arrival date. Pass `next_cursor` as `cursor` for the next "
    "page. In test mode (no Stripe) 409 `test_mode` (server only).",
    ("GET", "/v1/admin/payouts/{payout_id}"): "One payout and the balance transactions it "
    "paid out (charges, refunds and fees; a manual payout lists only its own), read from "
    "Stripe. An unknown id is 404 `payout_not_found`; in test mode 409 `test_mode` (server "
    "only).",
    ("GET", "/v1/emails"): "Billing emails newest first (receipts, failed payments, trials "
    "ending, cancellations, operator notices), each `pending`, `sent`, `failed` or `skipped` "
    "with why, filtered by customer, `status` and `kind`. Pass `next_cursor` as `cursor` for "
    "the next page (server only).",
    ("POST", "/v1/stripe/webhooks"): "Stripe's events, signed in `Stripe-Signature`. A bad, "
    "stale or future signature is 400 `signature_invalid`; a signed event plangate cannot "
    "store is 400 `event_invalid`; either way nothing is stored. A redelivered event is "
    "acknowledged and changes nothing.",
    ("POST", "/v1/identity/webhooks"): "The identity provider's user and organization "
    "events (Clerk's, signed by Svix: Standard Webhooks), verified with "
    "`PLANGATE_IDENTITY_WEBHOOK_SECRET` over the raw body. `user.updated` and "
    "`organization.updated` update the customer's email and name, and its Stripe customer's; "
    "`user.deleted` and `organization.deleted` cancel its subscriptions at the period end "
    "(`PLANGATE_IDENTITY_DELETED_POLICY`). A missing header is 400 `signature_missing`, a "
    "timestamp over 5 minutes away `timestamp_invalid`, no matching signature "
    "`signature_invalid`; nothing changes. A redelivered `webhook-id` is acknowledged "
    "(`duplicate: true`) and changes nothing; other event types are acknowledged with "
    "`applied: false`.",
    ("POST", WH): "Add an endpoint that receives plangate's events, signed with the Standard "
    "Webhooks scheme; the answer carries its `whsec_` secret (shown again only on rotation). "
    "A URL that resolves to a loopback, private, link-local or metadata address is 400 "
    "`url_forbidden` unless its network is allowed. Server key only.",
    ("GET", WH): "The webhook endpoints (without their secrets). Server key only.",
    ("GET", WH + "/{endpoint_id}"): "One webhook endpoint. Server key only.",
    ("PATCH", WH + "/{endpoint_id}"): "Change an endpoint's URL, event types or description, "
    "or disable (`disabled: true`) or re-enable it. Server key only.",
    ("DELETE", WH + "/{endpoint_id}"): "Delete an endpoint with its deliveries and attempt "
    "log. Server key only.",
    ("POST", WH + "/{endpoint_id}/rotate-secret"): "A new signing secret; the old one also "
    "signs every delivery during the rotation overlap (24 hours by default). Server key only.",
    ("GET", WH + "/{endpoint_id}/attempts"): "The endpoint's delivery attempts, newest first: "
    "status, duration and the first 1 KB of each answer. Server key only.",
    ("POST", WH + "/{endpoint_id}/replay"): "Send one message again (`message_id`), or every "
    "message that failed for this endpoint since a time (`since`); the retry schedule "
    "restarts. Server key only.",
}
