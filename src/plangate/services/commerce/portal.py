"""Stripe's billing portal, where a customer manages cards, invoices and plans."""

from __future__ import annotations

from plangate.services.access.redirects import validate_redirect_url
from plangate.services.commerce.billing import Deps, gateway_call, require_stripe_customer
from plangate.services.commerce.payment_errors import gateway_idempotency_key
from plangate.services.entitlements.customers import CustomerRef


def portal_url(deps: Deps, ref: CustomerRef, return_url: str, scope: str | None) -> str:
    """Stripe's billing portal for the customer."""
    validate_redirect_url(return_url, deps.settings, param="return_url")
    customer = require_stripe_customer(deps, ref)
    return gateway_call(
        lambda: deps.gateway.create_portal_session(
            customer, return_url, idempotency_key=gateway_idempotency_key(scope, "portal")
        )
    )

