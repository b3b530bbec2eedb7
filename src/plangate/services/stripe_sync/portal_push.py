"""Billing portal configurations: the Stripe portal switches plans only inside the catalog.

Stripe's billing portal lets a customer switch a subscription to any product and price its
configuration lists, so plangate keeps one configuration per product line (a line has one
customer type) whose ``features.subscription_update.products`` are exactly that line's
purchasable products: not server-only, not add-ons, and with recurring prices (a default
product without a price is not bought, so not listed), each with its pushed Stripe prices. A
line with fewer than two such products offers no switch: ``subscription_update`` is disabled.
Cancellation (at period end, as plangate's own), card updates and invoices stay on.

Configurations are found again by their metadata (``plangate_line``,
``plangate_customer_type``), never by a stored id, so a second push compares and changes
nothing; one whose line left the catalog is deactivated. Portal sessions pick the
configuration of the customer's line (``services/commerce/portal.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from plangate.domain.catalog import Catalog, Line, Product
from plangate.gateways.stripe_client import (
    META_PORTAL_CUSTOMER_TYPE,
    META_PORTAL_LINE,
    lookup_key,
)

# Switches charge or credit the difference at once, as plangate's own upgrades do.
PORTAL_PRORATION = "always_invoice"


def portal_products(catalog: Catalog, line: Line) -> list[Product]:
    """The products a customer of ``line`` may switch between in the portal, by id."""
    return sorted(
        (
            product
            for product in catalog.products.values()
            if product.line == line.id
            and product.customer_type == line.customer_type
            and not product.server_only
            and not product.is_add_on
            and product.is_subscription
        ),
        key=lambda product: product.id,
    )


def wanted_configuration(
    catalog: Catalog,
    line: Line,
    stripe_product: Callable[[str], str],
    price_ids: dict[str, str],
) -> dict[str, Any]:
    """The configuration Stripe should hold for ``line``; ``price_ids`` maps lookup keys to
    the Stripe prices the push left selling them."""
    products = portal_products(catalog, line)
    update: dict[str, Any] = {"enabled": len(products) >= 2}
    if update["enabled"]:
        update["default_allowed_updates"] = ["price"]
        update["proration_behavior"] = PORTAL_PRORATION
        update["products"] = [
            {
                "product": stripe_product(product.id),
                "prices": sorted(
                    price_ids[lookup_key(product.id, price.id, currency)]
                    for price in product.prices.values()
                    if price.is_recurring
                    for currency in price.currencies
                ),
            }
            for product in products
        ]
    return {
        "name": f"plangate: {line.name} ({line.customer_type})",
        "features": {
            "subscription_update": update,
            "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
            "payment_method_update": {"enabled": True},
            "invoice_history": {"enabled": True},
        },
        "metadata": {META_PORTAL_LINE: line.id, META_PORTAL_CUSTOMER_TYPE: line.customer_type},
    }


def _matches(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether Stripe's configuration already does what ``wanted`` asks (only the fields
    plangate sets are compared; product and price order do not matter)."""
    if not existing.get("active") or existing.get("name") != wanted["name"]:
        return False
    have, want = existing["features"], wanted["features"]
    for feature in ("subscription_cancel", "payment_method_update", "invoice_history"):
        if any(have[feature].get(k) != v for k, v in want[feature].items()):
            return False
    update = want["subscription_update"]
    if bool(have["subscription_update"]["enabled"]) != update["enabled"]:
        return False
    if not update["enabled"]:
        return True

    def products(entries: list[dict[str, Any]]) -> set[tuple[str, tuple[str, ...]]]:
        return {(str(e["product"]), tuple(sorted(e["prices"]))) for e in entries}

    current = have["subscription_update"]
    return (
        products(current.get("products") or []) == products(update["products"])
        and list(current["default_allowed_updates"]) == update["default_allowed_updates"]
        and current["proration_behavior"] == update["proration_behavior"]
    )


def line_of(configuration: dict[str, Any]) -> tuple[str, str] | None:
    """``(customer_type, line_id)`` of a configuration plangate keeps, else None."""
    metadata = configuration.get("metadata") or {}
    line_id, customer_type = metadata.get(META_PORTAL_LINE), metadata.get(META_PORTAL_CUSTOMER_TYPE)
    return (str(customer_type), str(line_id)) if line_id and customer_type else None


class PortalPush:
    """One pass over the portal configurations; counts what it changed."""

    def __init__(self, client: stripe.StripeClient, say: Callable[[str], None]) -> None:
        self.client = client
        self.say = say
        self.created: list[str] = []
        self.updated: list[str] = []
        self.deactivated: list[str] = []
        self.unchanged = 0

    def existing(self) -> dict[tuple[str, str], dict[str, Any]]:
        """plangate's configurations at Stripe by (customer type, line), active ones first
        so that a reactivated duplicate never wins over the live one."""
        pages = self.client.v1.billing_portal.configurations.list({"limit": 100})
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for configuration in (c.to_dict() for c in pages.auto_paging_iter()):
            key = line_of(configuration)
            if key is not None and (key not in found or not found[key].get("active")):
                found[key] = configuration
        return found

    def run(
        self, catalog: Catalog, stripe_product: Callable[[str], str], price_ids: dict[str, str]
    ) -> None:
        existing = self.existing()
        for line in sorted(catalog.lines.values(), key=lambda line: line.id):
            wanted = wanted_configuration(catalog, line, stripe_product, price_ids)
            current = existing.pop((line.customer_type, line.id), None)
            label = f"portal configuration {line.id}"
            if current is None:
                self.client.v1.billing_portal.configurations.create(wanted)  # type: ignore[arg-type]
                self.created.append(line.id)
                self.say(f"{label}: created")
            elif _matches(current, wanted):
                self.unchanged += 1
            else:
                self.client.v1.billing_portal.configurations.update(
                    str(current["id"]), {**wanted, "active": True}  # type: ignore[arg-type]
                )
                self.updated.append(line.id)
                self.say(f"{label}: updated")
        for (_, line_id), gone in existing.items():
            if gone.get("active"):
                self.client.v1.billing_portal.configurations.update(
                    str(gone["id"]), {"active": False}
                )
                self.deactivated.append(line_id)
                self.say(f"portal configuration {line_id}: deactivated (line no longer sold)")
