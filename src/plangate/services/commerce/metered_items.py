"""The metered prices a subscription checkout adds: usage is billed on the same subscription
as the product's price, in arrears (services/usage reports it)."""

from __future__ import annotations

from typing import Any

from plangate.domain.catalog import Catalog, Price, Product
from plangate.errors import Conflict
from plangate.gateways.base import Gateway, StripeDict
from plangate.gateways.stripe_client import metered_lookup_key


def metered_line_items(gateway: Gateway, catalog: Catalog, product: Product, price: Price,
                       currency: str) -> list[dict[str, Any]]:
    """One line item (no quantity) per metered price of the product billed every
    ``price``'s interval in ``currency``."""
    return [{"price": str(found["id"])}
            for found in metered_stripe_prices(gateway, catalog, product, price, currency)]


def metered_stripe_prices(gateway: Gateway, catalog: Catalog, product: Product, price: Price,
                          currency: str) -> list[StripeDict]:
    """The Stripe prices of the product's metered prices billed every ``price``'s interval
    in ``currency`` (each names its Stripe meter in ``recurring.meter``)."""
    if price.interval is None:
        return []
    found_prices: list[StripeDict] = []
    for metered in catalog.metered_prices_of(product.id):
        if metered.interval != price.interval or currency not in metered.currencies:
            continue
        key = metered_lookup_key(metered.id, currency)
        found = gateway.find_price(key)
        if found is None:
            raise Conflict("price_not_pushed", f"Stripe has no active price with lookup key "
                           f"{key!r}: run `plangate catalog push` after applying the catalog",
                           param="product_id")
        found_prices.append(found)
    return found_prices
