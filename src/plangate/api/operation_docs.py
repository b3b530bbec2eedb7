"""What each operation declares for the API document (api/openapi.py): the error codes it can
answer beyond the common ones, who may call it, and its description for API users (the
handlers' docstrings are notes for the people maintaining them)."""

from __future__ import annotations

C = "/v1/customers/{customer_type}/{customer_id}"
WH = "/v1/webhook-endpoints"

AUTH_401 = (
    "authentication_required",
    "authentication_invalid",
    "secret_key_invalid",
    "token_invalid",
    "token_expired",
    "token_signature_invalid",
    "identity_not_configured",
)
CUSTOMER_403 = (
    "custom_customer_forbidden",
    "customer_forbidden",
    "team_admin_required",
)
_GATEWAY = {402: ("card_declined",), 502: ("gateway_error",)}
# A switch and its preview refuse the same requests (the preview charges no card).
_SWITCH: dict[int, tuple[str, ...]] = {
    400: (
        "customer_type_mismatch",
        "price_not_recurring",
        "switch_not_in_line",
        "switch_target_not_subscription",
        "currency_not_offered",
    ),
    402: ("payment_method_required",),
    404: ("product_not_found", "price_not_found", "product_not_owned"),
    409: (
        "already_owned",
        "switch_requires_subscription",
        "subscription_not_active",
        "subscription_not_switchable",
        "price_not_pushed",
    ),
    502: ("gateway_error",),
}

# Codes each operation can answer besides the common ones added by _common_errors.
OPERATION_ERRORS: dict[tuple[str, str], dict[int, tuple[str, ...]]] = {
    ("GET", C + "/check"): {400: ("check_target_invalid",)},
    ("GET", C): {404: ("customer_not_found",)},
    ("PUT", "/v1/catalog"): {400: ("body_invalid",), 422: ("catalog_invalid",)},
    ("POST", C + "/products"): {
        400: ("product_required", "customer_type_mismatch", "product_is_default"),
        404: ("product_not_found",),
        409: ("already_owned", "add_on_requires_base"),
        422: ("catalog_invalid",),
    },
    ("DELETE", C + "/products/{product_id}"): {
        403: ("server_only",),
        404: ("product_not_owned",),
        409: ("subscription_ended", "subscription_not_on_stripe"),
        **_GATEWAY,
    },
    ("GET", C + "/items/{item_id}"): {404: ("item_not_found",)},
    ("POST", C + "/items/{item_id}/changes"): {
        400: ("delta_invalid", "expires_at_invalid"),
        404: ("item_not_found",),
        409: ("insufficient_quantity",),
    },
    ("POST", C + "/items/{item_id}/consume"): {
        400: ("quantity_invalid",),
        404: ("item_not_found",),
        409: ("insufficient_quantity",),
    },
    ("POST", C + "/usage"): {
        400: ("user_id_not_allowed", "usage_time_out_of_range"),
        404: ("meter_not_found",),
        409: ("not_a_team_member", "usage_event_reused", "usage_limit_reached"),
    },
    ("GET", C + "/usage"): {},
    ("GET", "/v1/teams/{team_id}/members"): {},
    ("PUT", "/v1/teams/{team_id}/members/{user_id}"): {409: ("seat_limit_reached",)},
    ("DELETE", "/v1/teams/{team_id}/members/{user_id}"): {404: ("member_not_found",)},
    ("POST", "/v1/customer-sessions"): {400: ("expires_in_invalid",)},
    ("GET", "/v1/entitlement-token"): {400: ("customer_ambiguous",)},
    ("POST", "/v1/checkout-sessions"): {
        400: (
            "currency_not_offered",
            "product_is_default",
            "product_not_purchasable",
            "customer_type_mismatch",
            "quantity_invalid",
            "redirect_url_not_allowed",
            "promotion_code_unknown",
            "promotion_code_not_applicable",
            "promotion_code_conflict",
        ),
        403: ("purchases_blocked",),
        404: ("product_not_found", "price_not_found"),
        409: (
            "already_owned",
            "add_on_requires_base",
            "price_not_pushed",
            "promotion_code_not_pushed",
        ),
        **_GATEWAY,
    },
    ("GET", "/v1/checkout-sessions/{session_id}"): {404: ("checkout_session_not_found",)},
    ("GET", "/v1/pricing/{line_id}"): {404: ("line_not_found",)},
    ("POST", C + "/products/switch"): {
        **_SWITCH,
        402: ("payment_method_required", "card_declined"),
    },
    ("POST", C + "/products/switch/preview"): _SWITCH,
    ("POST", C + "/products/{product_id}/resume"): {
        404: ("product_not_owned",),
        409: ("subscription_ended", "subscription_not_on_stripe"),
        **_GATEWAY,
    },
    ("POST", C + "/portal-sessions"): {
        400: ("redirect_url_not_allowed",),
        409: ("payment_customer_missing",),
        502: ("gateway_error",),
    },
    ("GET", C + "/billing"): {502: ("gateway_error",)},
    ("POST", C + "/setup-intents"): {
        400: ("redirect_url_not_allowed",),
        409: ("test_mode",),
        502: ("gateway_error",),
    },
    ("POST", C + "/payment-methods/default"): {
        404: ("payment_method_not_found",),
        409: ("test_mode", "payment_customer_missing"),
        **_GATEWAY,
    },
    ("GET", C + "/billing-details"): {502: ("gateway_error",)},
    ("PUT", C + "/billing-details"): {
        400: ("country_invalid", "tax_id_type_invalid", "tax_id_invalid"),
        409: ("test_mode",),
        502: ("gateway_error",),
    },
    ("GET", C + "/invoices"): {400: ("cursor_invalid",), 502: ("gateway_error",)},
    ("GET", "/v1/transactions"): {400: ("customer_incomplete", "date_invalid")},
    ("POST", "/v1/refunds"): {
        400: (
            "currency_mismatch",
            "refund_amount_invalid",
            "refund_target_invalid",
            "transaction_not_refundable",
            "payment_not_refundable",
            "test_mode",
        ),
        404: ("payment_not_found", "transaction_not_found", "gateway_object_not_found"),
        409: ("charge_already_refunded", "invoice_not_paid"),
        **_GATEWAY,
    },
    ("GET", "/v1/admin/customers"): {
        400: ("cursor_invalid", "customer_type_invalid", "query_invalid")
    },
    ("GET", "/v1/admin/ownerships"): {
        400: ("cursor_invalid", "parameter_invalid", "customer_type_invalid", "customer_id_invalid")
    },
    ("GET", "/v1/admin/stripe-events"): {400: ("cursor_invalid", "parameter_invalid")},
    ("POST", "/v1/admin/stripe-events/{event_id}/retry"): {404: ("stripe_event_not_found",)},
    ("GET", "/v1/admin/webhook-deliveries"): {400: ("cursor_invalid", "parameter_invalid")},
    ("POST", "/v1/admin/webhook-deliveries/{delivery_id}/retry"): {
        404: ("webhook_delivery_not_found",),
        409: ("webhook_delivery_pending",),
    },
    ("GET", "/v1/admin/audit-log"): {400: ("cursor_invalid",)},
    ("GET", "/v1/admin/figures"): {400: ("days_invalid",)},
    ("GET", "/v1/admin/figures/mrr-history"): {400: ("days_invalid",)},
    ("GET", "/v1/admin/balance"): {409: ("test_mode",), 502: ("gateway_error",)},
    ("GET", "/v1/admin/payouts"): {400: ("cursor_invalid",), 409: ("test_mode",),
                                   502: ("gateway_error",)},
    ("GET", "/v1/admin/payouts/{payout_id}"): {404: ("payout_not_found",), 409: ("test_mode",),
                                               502: ("gateway_error",)},
    ("GET", "/v1/emails"): {
        400: ("cursor_invalid", "parameter_invalid", "customer_type_invalid", "customer_id_invalid")
    },
    ("GET", "/healthz"): {
        503: ("starting", "schema_missing", "schema_behind", "schema_ahead", "worker_behind")
    },
    ("POST", "/v1/stripe/webhooks"): {
        400: ("signature_invalid", "event_invalid", "body_invalid"),
        503: ("webhooks_not_configured",),
    },
    ("POST", "/v1/identity/webhooks"): {
        400: (
            "signature_missing",
            "webhook_id_invalid",
            "timestamp_invalid",
            "signature_invalid",
            "body_invalid",
        ),
        502: ("gateway_error",),
        503: ("identity_webhooks_not_configured",),
    },
    ("POST", "/v1/webhook-endpoints"): {
        400: ("url_invalid", "url_forbidden", "url_unresolvable", "event_type_unknown",
              "description_invalid"),
    },
    ("GET", WH + "/{endpoint_id}"): {404: ("webhook_endpoint_not_found",)},
    ("PATCH", WH + "/{endpoint_id}"): {
        400: ("url_invalid", "url_forbidden", "url_unresolvable", "event_type_unknown",
              "description_invalid"),
        404: ("webhook_endpoint_not_found",),
    },
    ("DELETE", WH + "/{endpoint_id}"): {404: ("webhook_endpoint_not_found",)},
    ("POST", WH + "/{endpoint_id}/rotate-secret"): {404: ("webhook_endpoint_not_found",)},
    ("GET", WH + "/{endpoint_id}/attempts"): {404: ("webhook_endpoint_not_found",)},
    ("POST", WH + "/{endpoint_id}/replay"): {
        400: ("replay_target_invalid",),
        404: ("webhook_endpoint_not_found", "message_not_found"),
    },
}
# Operations anyone may call; every other one needs a secret key or a client token.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/v1/pricing/{line_id}"),
    ("POST", "/v1/stripe/webhooks"),
    ("POST", "/v1/identity/webhooks"),
}
OPTIONAL_AUTH = {("GET", "/v1/checkout-sessions/{session_id}")}
SERVER_ONLY = {
    ("POST", WH),
    ("GET", WH),
    ("GET", WH + "/{endpoint_id}"),
    ("PATCH", WH + "/{endpoint_id}"),
    ("DELETE", WH + "/{endpoint_id}"),
    ("POST", WH + "/{endpoint_id}/rotate-secret"),
    ("GET", WH + "/{endpoint_id}/attempts"),
    ("POST", WH + "/{endpoint_id}/replay"),
    ("GET", "/v1/catalog"),
    ("PUT", "/v1/catalog"),
    ("PUT", C),
    ("POST", C + "/products"),
    ("POST", C + "/items/{item_id}/changes"),
    ("POST", C + "/items/{item_id}/consume"),
    ("POST", C + "/usage"),
    ("POST", "/v1/customer-sessions"),
    ("GET", "/v1/transactions"),
    ("POST", "/v1/refunds"),
    ("GET", "/v1/admin/customers"),
    ("GET", "/v1/admin/ownerships"),
    ("GET", "/v1/admin/stripe-events"),
    ("POST", "/v1/admin/stripe-events/{event_id}/retry"),
    ("GET", "/v1/admin/webhook-deliveries"),
    ("POST", "/v1/admin/webhook-deliveries/{delivery_id}/retry"),
    ("GET", "/v1/admin/audit-log"),
    ("GET", "/v1/admin/figures"),
    ("GET", "/v1/admin/figures/mrr-history"),
    ("GET", "/v1/admin/balance"),
    ("GET", "/v1/admin/payouts"),
    ("GET", "/v1/admin/payouts/{payout_id}"),
    ("GET", "/v1/emails"),
}


# What each operation does, for the people calling it.
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
    "purchase is fulfilled; what a success page polls. Without credentials the customer "
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
