"""Pricing: what a product line offers, as a customer-facing price list. The hosted pricing
page, the public pricing route and the embeddable table all read it from here, so they
show the same plans, prices and savings. It writes nothing."""

from plangate.services.pricing.table import (
    Amount,
    FeatureLine,
    ItemLine,
    Plan,
    PriceOption,
    PricingTable,
    Saving,
    pricing_table,
    public_lines,
    read_pricing_table,
    read_public_lines,
)

__all__ = [
    "Amount",
    "FeatureLine",
    "ItemLine",
    "Plan",
    "PriceOption",
    "PricingTable",
    "Saving",
    "pricing_table",
    "public_lines",
    "read_public_lines",
    "read_pricing_table",
]
