"""The customer's cards at Stripe: read, saved through Stripe's pages or Stripe.js, and the
default that renewals charge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from plangate.errors import NotFound
from plangate.gateways.base import Gateway, GatewayNotFound, StripeDict
from plangate.gateways.stripe_client import META_CUSTOMER_ID, META_CUSTOMER_TYPE
from plangate.services.access.redirects import validate_redirect_url
from plangate.services.commerce.billing import (
    ENDED_SUBSCRIPTIONS,
    Deps,
    gateway_call,
    stripe_customer_id,
)
from plangate.services.commerce.payment_errors import gateway_idempotency_key
from plangate.services.commerce.stripe_customers import ensure_stripe_customer
from plangate.services.entitlements.customers import CustomerRef


def _card(method: StripeDict | None, *, default_id: str | None = None) -> dict[str, Any] | None:
    if not method:
        return None
    card = method.get("card") or {}
    out: dict[str, Any] = {
        "id": method.get("id"),
        "brand": card.get("brand"),
        "last4": card.get("last4"),
        "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"),
    }
    if default_id is not None:
        out["default"] = method.get("id") == default_id
    return out


def _default_method_id(gateway: Gateway, customer: StripeDict) -> str | None:
    """The card renewals charge: the customer's default, else a running subscription's own
    (Checkout sets the subscription's, not the customer's)."""
    settings = customer.get("invoice_settings") or {}
    default = settings.get("default_payment_method")
    if default:
        return str(default.get("id") if isinstance(default, dict) else default)
    for sub in gateway.list_subscriptions(str(customer["id"])):
        method = sub.get("default_payment_method")
        if method and sub.get("status") not in ENDED_SUBSCRIPTIONS:
            return str(method.get("id") if isinstance(method, dict) else method)
    return None


def billing_details(deps: Deps, ref: CustomerRef) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "has_payment_customer": False,
        "default_payment_method": None,
        "payment_methods": [],
    }
    customer_id = stripe_customer_id(deps.db, ref)
    if customer_id is None:
        return empty
    gateway = deps.gateway

    def read() -> dict[str, Any]:
        customer = gateway.retrieve_customer(customer_id)
        default_id = _default_method_id(gateway, customer)
        methods = list(gateway.list_payment_methods(customer_id))
        default = next((m for m in methods if m.get("id") == default_id), None)
        if default is None and default_id is not None:
            default = gateway.retrieve_payment_method(default_id)
        return {
            "has_payment_customer": True,
            # The same card reads the same in both places: ``default`` is true on it here too.
            "default_payment_method": _card(default, default_id=default_id or ""),
            "payment_methods": [_card(m, default_id=default_id or "") for m in methods],
        }

    return gateway_call(read)


def save_card(
    deps: Deps, ref: CustomerRef, return_url: str | None, scope: str | None, now: datetime
) -> dict[str, Any]:
    """Starts saving a card. With ``return_url``: a Checkout Session in setup mode, whose
    ``url`` is Stripe's hosted page (no JavaScript needed; the browser comes back to
    ``return_url``). Without: a SetupIntent whose ``client_secret`` Stripe.js confirms.
    Either way the card is the customer's afterwards; make it the default with
    ``POST .../payment-methods/default``."""
    if return_url is not None:
        validate_redirect_url(return_url, deps.settings, param="return_url")
    gateway = deps.gateway

    def start() -> dict[str, Any]:
        customer = ensure_stripe_customer(
            deps.db, gateway, ref, now, test_clock=deps.settings.stripe_test_clock or None
        )
        metadata = {META_CUSTOMER_TYPE: ref.type, META_CUSTOMER_ID: ref.id}
        if return_url is None:
            intent = gateway.create_setup_intent(
                customer, metadata, idempotency_key=gateway_idempotency_key(scope, "setup")
            )
            return {
                "object": "card_setup",
                "type": "setup_intent",
                "id": intent["id"],
                "client_secret": intent.get("client_secret"),
                "url": None,
                "status": intent.get("status"),
            }
        session = gateway.create_checkout_session(
            {
                "mode": "setup",
                "customer": customer,
                "allowed_payment_method_types": ["card"],
                "success_url": return_url,
                "cancel_url": return_url,
                "metadata": metadata,
            },
            idempotency_key=gateway_idempotency_key(scope, "setup-session"),
        )
        return {
            "object": "card_setup",
            "type": "checkout_session",
            "id": session.id,
            "client_secret": None,
            "url": session.url,
            "status": "open",
        }

    return gateway_call(start)


def set_default_card(
    deps: Deps, ref: CustomerRef, payment_method_id: str, scope: str | None, now: datetime
) -> dict[str, Any]:
    """Makes a card the one renewals charge: the customer's default and, for subscriptions
    that name their own card (Checkout does), theirs too. A card not yet attached is
    attached first; one belonging to another customer is not found."""
    gateway = deps.gateway

    def apply() -> None:
        customer = ensure_stripe_customer(
            deps.db, gateway, ref, now, test_clock=deps.settings.stripe_test_clock or None
        )
        try:
            method = gateway.retrieve_payment_method(payment_method_id)
        except GatewayNotFound:
            method = None
        owner = method.get("customer") if method else None
        if method is None or (owner is not None and owner != customer):
            raise NotFound(
                "payment_method_not_found",
                f"no card {payment_method_id!r} for {ref}",
                param="payment_method_id",
            )
        if owner is None:
            method = gateway.attach_payment_method(
                payment_method_id,
                customer,
                idempotency_key=gateway_idempotency_key(scope, "attach"),
            )
        method_id = str(method["id"])
        gateway.set_default_payment_method(
            customer, method_id, idempotency_key=gateway_idempotency_key(scope, "default")
        )
        for sub in gateway.list_subscriptions(customer):
            current = sub.get("default_payment_method")
            if sub.get("status") in ENDED_SUBSCRIPTIONS or not current or current == method_id:
                continue
            gateway.update_subscription(
                str(sub["id"]),
                {"default_payment_method": method_id},
                idempotency_key=gateway_idempotency_key(scope, f"default-{sub['id']}"),
            )

    gateway_call(apply, param="payment_method_id")
    return billing_details(deps, ref)

