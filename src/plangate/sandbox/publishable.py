"""Calls made with the publishable key, as Stripe.js makes them from a browser.

A key starting with `SandboxConfig.publishable_key_prefix` (`pk_test_`) is the sandbox's
publishable key; it comes as a Bearer token or as the `key` form parameter. With it only
these calls are allowed, the intent ones with the intent's `client_secret`:

- `GET /v1/payment_intents/{id}` and `GET /v1/setup_intents/{id}` (`client_secret` in the
  query), answered with the subset of fields Stripe shows to a publishable key;
- `POST /v1/payment_intents/{id}/confirm` and `POST /v1/setup_intents/{id}/confirm`, with
  `payment_method` or `payment_method_data[type]=card` (`[card][token]` or `[card][number]`);
- `POST /v1/payment_methods` (Stripe.js `createPaymentMethod`).

Anything else is Stripe's 401 "This API call cannot be made with a publishable API key". A
`client_secret` that is not the intent's is Stripe's 400 `*_invalid_parameter`. The browser
telemetry Stripe.js adds (`guid`, `muid`, `sid`, `payment_user_agent`, `time_on_page`, ...)
is dropped before the parameters are checked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .wire import Obj, Params, StripeError, get_dict, get_str, invalid

if TYPE_CHECKING:
    from .core import Sandbox
    from .router import ApiRequest

# Route path -> (stored kind, label in messages); `None`: no intent, no client secret.
INTENT_ROUTES: dict[tuple[str, str], tuple[str, str] | None] = {
    ("GET", "/v1/payment_intents/{id}"): ("payment_intent", "PaymentIntent"),
    ("POST", "/v1/payment_intents/{id}/confirm"): ("payment_intent", "PaymentIntent"),
    ("GET", "/v1/setup_intents/{id}"): ("setup_intent", "SetupIntent"),
    ("POST", "/v1/setup_intents/{id}/confirm"): ("setup_intent", "SetupIntent"),
    ("POST", "/v1/payment_methods"): None,
}

# What Stripe shows of an intent retrieved or confirmed with the publishable key.
VISIBLE: dict[str, frozenset[str]] = {
    "payment_intent": frozenset({
        "id", "object", "amount", "automatic_payment_methods", "canceled_at",
        "cancellation_reason", "capture_method", "client_secret", "confirmation_method",
        "created", "currency", "description", "last_payment_error", "livemode", "next_action",
        "payment_method", "payment_method_configuration_details", "payment_method_types",
        "processing", "receipt_email", "setup_future_usage", "shipping", "status"}),
    "setup_intent": frozenset({
        "id", "object", "automatic_payment_methods", "cancellation_reason", "client_secret",
        "created", "description", "last_setup_error", "livemode", "next_action",
        "payment_method", "payment_method_configuration_details", "payment_method_types",
        "status", "usage"}),
}

# Parameters Stripe.js sends that are not part of the API's operations: its own key and
# version, and browser telemetry (also nested under `payment_method_data`).
_JS_ONLY = ("key", "_stripe_version", "_stripe_account", "expected_payment_method_type",
            "use_stripe_sdk")
_TELEMETRY = ("guid", "muid", "sid", "payment_user_agent", "time_on_page", "referrer",
              "client_attribution_metadata")

SECRET_REQUIRED = ("This API call cannot be made with a publishable API key. Please use a "
                   "secret API key. You can find a list of your API keys at "
                   "https://dashboard.stripe.com/account/apikeys.")


@dataclass(frozen=True)
class ClientCall:
    """What `admit` took out of a client call's parameters."""

    secret: str | None
    method_data: Obj | None


def key_from_params(params: Params) -> str:
    """The `key` form parameter Stripe.js sends instead of an Authorization header."""
    key = params.pop("key", "")
    return key if isinstance(key, str) else ""


def admit(method: str, route_path: str, req: ApiRequest) -> ClientCall | None:
    """Before the parameters are checked: refuse what a publishable key may not call, and
    take out what Stripe.js adds: the `client_secret` (any key type) and, with the
    publishable key, `payment_method_data`."""
    intent = INTENT_ROUTES.get((method, route_path), False)
    if intent is False:
        if req.publishable:
            raise StripeError(401, "invalid_request_error", SECRET_REQUIRED,
                              code="secret_key_required")
        return None
    params = req.params
    data: Obj | None = None
    if req.publishable:
        for name in (*_JS_ONLY, *_TELEMETRY):
            params.pop(name, None)
        if intent is not None and "payment_method_data" in params:
            if "payment_method" in params:
                raise invalid("You cannot provide both payment_method and "
                              "payment_method_data.", "payment_method_data")
            data = get_dict(params, "payment_method_data")
            params.pop("payment_method_data")
            for name in _TELEMETRY:
                data.pop(name, None)
    if intent is None:
        return None
    secret = params.pop("client_secret", None)
    if secret is None and req.publishable:
        raise invalid("Missing required param: client_secret.", "client_secret",
                      code="parameter_missing")
    return ClientCall(None if secret is None else str(secret), data)


def bind(sb: Sandbox, method: str, route_path: str, args: dict[str, str], req: ApiRequest,
         call: ClientCall) -> None:
    """Inside the unit of work, before the handler: the client secret must be the intent's;
    `payment_method_data` becomes a payment method."""
    intent = INTENT_ROUTES.get((method, route_path))
    if intent is None:
        return
    kind, label = intent
    obj = sb.get(kind, args["id"], "setupintent" if kind == "setup_intent" else kind)
    secret = call.secret
    if secret is not None and not secrets.compare_digest(secret, str(obj["client_secret"])):
        raise invalid(f"The client_secret provided does not match the client_secret "
                      f"associated with the {label}.", "client_secret",
                      code=f"{kind}_invalid_parameter")
    if call.method_data is not None:
        req.params["payment_method"] = _method_from_data(sb, call.method_data)


def _method_from_data(sb: Sandbox, data: Obj) -> str:
    from .payments import TEST_METHODS, new_card_method

    kind = get_str(data, "type", required=True, param="payment_method_data[type]")
    if kind != "card":
        raise invalid(f"The sandbox does not implement the payment method type {kind!r}; it "
                      "supports card only.", "payment_method_data[type]",
                      code="parameter_not_implemented")
    card = get_dict(data, "card")
    token = get_str(card, "token", param="payment_method_data[card][token]")
    if token is not None:
        if token not in TEST_METHODS:
            raise invalid(f"No such token: '{token}'", "payment_method_data[card][token]",
                          code="resource_missing")
        number = TEST_METHODS[token]
    else:
        number = get_str(card, "number", required=True,
                         param="payment_method_data[card][number]") or ""
    exp_month, exp_year = _int(card.get("exp_month"), 12), _int(card.get("exp_year"), 2034)
    return str(new_card_method(sb, number, exp_month, exp_year,
                               get_dict(data, "billing_details"))["id"])


def _int(raw: Any, default: int) -> int:
    return int(raw) if isinstance(raw, str) and raw.isdigit() else default


def visible(body: Obj, req: ApiRequest) -> Obj:
    """An intent as a publishable key sees it."""
    keys = VISIBLE.get(str(body.get("object"))) if req.publishable else None
    if keys is None:
        return body
    return {k: v for k, v in body.items() if k in keys}
