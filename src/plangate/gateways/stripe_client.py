"""The one way plangate reaches Stripe: the official SDK's client, pointed at real Stripe or at
the sandbox."""

from __future__ import annotations

import stripe

from plangate.settings import Settings

# Metadata keys plangate writes on Stripe objects (customers, checkout sessions and, through
# subscription_data, subscriptions); the sync reads them back.
META_CUSTOMER_TYPE = "customer_type"
META_CUSTOMER_ID = "customer_id"
META_PRODUCT_ID = "product_id"
META_PRICE_ID = "price_id"
META_CATALOG_VERSION = "catalog_version"


def lookup_key(product_id: str, price_id: str, currency: str) -> str:
    """Stripe prices are found again by this key, never by a stored ``price_...`` id."""
    return f"plangate:{product_id}:{price_id}:{currency.lower()}"


def make_stripe_client(settings: Settings) -> stripe.StripeClient:
    if not settings.stripe_api_key:
        raise ValueError("PLANGATE_STRIPE_API_KEY is required with the stripe gateway")
    base = settings.stripe_api_base.rstrip("/")
    return stripe.StripeClient(
        settings.stripe_api_key,
        base_addresses={"api": base} if base else {},
        max_network_retries=2,
    )
