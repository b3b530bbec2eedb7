"""What each operation declares for the API document (api/openapi.py): the error codes it can
answer beyond the common ones, and who may call it
(descriptions: api/operation_descriptions.py)."""

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
# Stripe refused (502) or could not answer in time (503, retryable, with Retry-After).
_STRIPE: dict[int, tuple[str, ...]] = {502: ("gateway_error",), 503: ("gateway_unavailable",)}
_GATEWAY = {402: ("card_declined",), **_STRIPE}
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
    **_STRIPE,
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
        **_STRIPE,
    },
    ("GET", C + "/billing"): _STRIPE,
    ("POST", C + "/setup-intents"): {
        400: ("redirect_url_not_allowed",),
        409: ("test_mode",),
        **_STRIPE,
    },
    ("POST", C + "/payment-methods/default"): {
        404: ("payment_method_not_found",),
        409: ("test_mode", "payment_customer_missing"),
        **_GATEWAY,
    },
    ("GET", C + "/billing-details"): _STRIPE,
    ("PUT", C + "/billing-details"): {
        400: ("country_invalid", "tax_id_type_invalid", "tax_id_invalid"),
        409: ("test_mode",),
        **_STRIPE,
    },
    ("GET", C + "/invoices"): {400: ("cursor_invalid",), **_STRIPE},
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
    ("GET", "/v1/admin/balance"): {409: ("test_mode",), **_STRIPE},
    ("GET", "/v1/admin/payouts"): {400: ("cursor_invalid",), 409: ("test_mode",),
                                   **_STRIPE},
    ("GET", "/v1/admin/payouts/{payout_id}"): {404: ("payout_not_found",), 409: ("test_mode",),
                                               **_STRIPE},
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
        503: ("gateway_unavailable", "identity_webhooks_not_configured"),
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
