"""Catalog push: make Stripe sell exactly what the active catalog says.

One Stripe product per catalog product that has prices, with a stable id
(``plangate_<product id>``) and ``plangate_product_id`` in its metadata; one Stripe price per
catalog price *and* currency, found again by its lookup key (``plangate:<product>:<price>:
<currency>``), never by a stored ``price_…`` id. Stripe prices are immutable, so a changed
amount or interval creates a new price that takes the lookup key over
(``transfer_lookup_key``) and deactivates the old one: checkouts from then on sell the new
amount, and subscribers of the old price keep it (Stripe's grandfathering). Whatever Stripe
holds that the catalog no longer sells is deactivated, never deleted.

The catalog's coupons and promotion codes are pushed too (``discount_push``).

Each product line also gets a billing portal configuration that lets its customers switch
only between the line's purchasable products (``portal_push``).

Pushing is convergent: a second push of the same catalog changes nothing and reports zero
changes. Amounts are integer minor units from :meth:`Price.minor_amount` (invariant 1).

This module talks to the SDK's client directly (it is an operator command, not a request
path), unlike the request-time services, which go through the Gateway protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import stripe

from plangate.domain.catalog import Catalog, Price, Product
from plangate.gateways.stripe_client import META_PRICE_PRICE_ID, META_PRICE_PRODUCT_ID, lookup_key
from plangate.services.stripe_sync.discount_push import DiscountPush
from plangate.services.stripe_sync.meter_push import MeterPush
from plangate.services.stripe_sync.portal_push import PortalPush

Progress = Callable[[str], None]

STRIPE_PRODUCT_PREFIX = "plangate_"
# Stripe's list endpoint takes at most ten lookup keys per request.
LOOKUP_KEYS_PER_REQUEST = 10


def stripe_product_id(product_id: str) -> str:
    """The Stripe product of a catalog product: a stable id, so a push finds it again."""
    return STRIPE_PRODUCT_PREFIX + product_id


@dataclass
class PushReport:
    """What a push changed at Stripe; ``changes == 0`` means Stripe already matched."""

    products_created: list[str] = field(default_factory=list)
    products_updated: list[str] = field(default_factory=list)
    products_archived: list[str] = field(default_factory=list)
    # Lookup keys.
    prices_created: list[str] = field(default_factory=list)
    prices_replaced: list[str] = field(default_factory=list)
    prices_reactivated: list[str] = field(default_factory=list)
    # Stripe price ids no catalog price uses any more (replaced ones are not counted twice).
    prices_deactivated: list[str] = field(default_factory=list)
    # Line ids of the billing portal configurations (see portal_push).
    portal_configurations_created: list[str] = field(default_factory=list)
    portal_configurations_updated: list[str] = field(default_factory=list)
    portal_configurations_deactivated: list[str] = field(default_factory=list)
    # Catalog coupon ids; promotion code ids; Stripe ids of what was deleted or deactivated
    # (see discount_push).
    coupons_created: list[str] = field(default_factory=list)
    coupons_updated: list[str] = field(default_factory=list)
    coupons_deleted: list[str] = field(default_factory=list)
    promotion_codes_created: list[str] = field(default_factory=list)
    promotion_codes_updated: list[str] = field(default_factory=list)
    promotion_codes_deactivated: list[str] = field(default_factory=list)
    # Catalog meter ids; event names of the meters deactivated (see meter_push). Metered
    # prices count with the prices, by lookup key.
    meters_created: list[str] = field(default_factory=list)
    meters_updated: list[str] = field(default_factory=list)
    meters_deactivated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return sum(
            len(group)
            for group in (
                self.products_created,
                self.products_updated,
                self.products_archived,
                self.prices_created,
                self.prices_replaced,
                self.prices_reactivated,
                self.prices_deactivated,
                self.portal_configurations_created,
                self.portal_configurations_updated,
                self.portal_configurations_deactivated,
                self.coupons_created,
                self.coupons_updated,
                self.coupons_deleted,
                self.promotion_codes_created,
                self.promotion_codes_updated,
                self.promotion_codes_deactivated,
                self.meters_created,
                self.meters_updated,
                self.meters_deactivated,
            )
        )


@dataclass(frozen=True)
class WantedPrice:
    """One Stripe price the catalog asks for."""

    key: str
    product_id: str
    price_id: str
    currency: str
    unit_amount: int
    recurring: tuple[str, int] | None  # (interval, interval_count)

    @property
    def stripe_product(self) -> str:
        return stripe_product_id(self.product_id)

    def matches(self, price: dict[str, Any]) -> bool:
        """Whether an existing Stripe price charges exactly this (prices are immutable)."""
        recurring = price.get("recurring")
        existing = (
            (str(recurring["interval"]), int(recurring.get("interval_count") or 1))
            if recurring
            else None
        )
        return (
            price.get("unit_amount") == self.unit_amount
            and str(price.get("currency")) == self.currency
            and str(price.get("product")) == self.stripe_product
            and existing == self.recurring
        )

    def create_params(self, product: Product) -> dict[str, Any]:
        params: dict[str, Any] = {
            "product": self.stripe_product,
            "currency": self.currency,
            "unit_amount": self.unit_amount,
            "lookup_key": self.key,
            # A key held by an outdated price moves here; the old price is deactivated after.
            "transfer_lookup_key": True,
            "nickname": f"{product.name} ({self.price_id}, {self.currency.upper()})",
            "metadata": {
                META_PRICE_PRODUCT_ID: self.product_id,
                META_PRICE_PRICE_ID: self.price_id,
            },
        }
        if self.recurring is not None:
            params["recurring"] = {
                "interval": self.recurring[0],
                "interval_count": self.recurring[1],
            }
        return params


def wanted_prices(product: Product) -> list[WantedPrice]:
    return [
        _wanted(product, price, currency)
        for price in product.prices.values()
        for currency in price.currencies
    ]


def _wanted(product: Product, price: Price, currency: str) -> WantedPrice:
    interval = price.interval
    return WantedPrice(
        key=lookup_key(product.id, price.id, currency),
        product_id=product.id,
        price_id=price.id,
        currency=currency.lower(),
        unit_amount=price.minor_amount(currency),
        recurring=(interval.unit, interval.count) if interval is not None else None,
    )


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Pusher:
    def __init__(self, client: stripe.StripeClient, progress: Progress | None) -> None:
        self.client = client
        self.say: Progress = progress or (lambda _message: None)
        self.report = PushReport()
        # Lookup key -> the Stripe price now selling it, for the portal configurations.
        self.price_ids: dict[str, str] = {}

    # --- products -----------------------------------------------------------------------

    def product(self, product: Product) -> None:
        sid = stripe_product_id(product.id)
        wanted: dict[str, Any] = {
            "name": product.name,
            "description": product.description or "",
            "active": True,
        }
        try:
            existing = self.client.v1.products.retrieve(sid).to_dict()
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
            params = {
                "id": sid,
                "name": product.name,
                "metadata": {META_PRICE_PRODUCT_ID: product.id},
            }
            if product.description:
                params["description"] = product.description
            self.client.v1.products.create(params)  # type: ignore[arg-type]
            self.report.products_created.append(product.id)
            self.say(f"product {product.id}: created ({sid})")
            return
        changed = {
            key: value
            for key, value in wanted.items()
            if (existing.get(key) or ("" if key == "description" else None)) != value
        }
        if (existing.get("metadata") or {}).get(META_PRICE_PRODUCT_ID) != product.id:
            changed["metadata"] = {META_PRICE_PRODUCT_ID: product.id}
        if changed:
            self.client.v1.products.update(sid, changed)  # type: ignore[arg-type]
            self.report.products_updated.append(product.id)
            self.say(f"product {product.id}: updated {', '.join(sorted(changed))}")
        else:
            self.report.unchanged += 1

    def archive_unsold(self, sold: set[str]) -> None:
        """Archives plangate's Stripe products the catalog no longer sells."""
        pages = self.client.v1.products.list({"active": True, "limit": 100})
        for existing in [product.to_dict() for product in pages.auto_paging_iter()]:
            sid = str(existing["id"])
            product_id = (existing.get("metadata") or {}).get(META_PRICE_PRODUCT_ID)
            if not product_id or not sid.startswith(STRIPE_PRODUCT_PREFIX):
                continue  # not plangate's: never touched
            if product_id in sold:
                continue
            self.deactivate_prices(sid, keep=set())
            self.client.v1.products.update(sid, {"active": False})
            self.report.products_archived.append(product_id)
            self.say(f"product {product_id}: archived (no longer sold)")

    # --- prices ---------------------------------------------------------------------------

    def existing_prices(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(keys, LOOKUP_KEYS_PER_REQUEST):
            page = self.client.v1.prices.list({"lookup_keys": chunk, "limit": 100})
            for price in page.auto_paging_iter():
                found[str(price.lookup_key)] = price.to_dict()
        return found

    def prices(self, product: Product) -> set[str]:
        """Brings the product's prices in line; returns the Stripe price ids now in use."""
        wanted = wanted_prices(product)
        existing = self.existing_prices([w.key for w in wanted])
        in_use: set[str] = set()
        for want in wanted:
            price = existing.get(want.key)
            if price is not None and want.matches(price):
                if not price.get("active"):
                    self.client.v1.prices.update(str(price["id"]), {"active": True})
                    self.report.prices_reactivated.append(want.key)
                    self.say(f"price {want.key}: reactivated")
                else:
                    self.report.unchanged += 1
                in_use.add(str(price["id"]))
                self.price_ids[want.key] = str(price["id"])
                continue
            created = self.client.v1.prices.create(want.create_params(product))  # type: ignore[arg-type]
            in_use.add(created.id)
            self.price_ids[want.key] = created.id
            if price is None:
                self.report.prices_created.append(want.key)
                self.say(f"price {want.key}: created {_describe(want)}")
                continue
            if price.get("active"):
                self.client.v1.prices.update(str(price["id"]), {"active": False})
            self.report.prices_replaced.append(want.key)
            self.say(f"price {want.key}: replaced by {_describe(want)}; old price deactivated")
        return in_use

    def deactivate_prices(self, stripe_product: str, keep: set[str]) -> None:
        """Deactivates the product's active prices not in ``keep``: catalog prices or
        currencies removed, and any price left behind by an interrupted replacement."""
        pages = self.client.v1.prices.list(
            {"product": stripe_product, "active": True, "limit": 100}
        )
        for price in list(pages.auto_paging_iter()):
            if price.id in keep:
                continue
            self.client.v1.prices.update(price.id, {"active": False})
            self.report.prices_deactivated.append(price.id)
            self.say(f"price {price.lookup_key or price.id}: deactivated (no longer sold)")


def _describe(want: WantedPrice) -> str:
    from plangate.domain.money import from_minor_units

    amount = f"{from_minor_units(want.unit_amount, want.currency)} {want.currency.upper()}"
    if want.recurring is None:
        return amount
    interval, count = want.recurring
    return f"{amount} every {interval}" if count == 1 else f"{amount} every {count} {interval}s"


def sold_products(catalog: Catalog) -> Iterable[Product]:
    """The products Stripe must know: those with prices (others are only granted)."""
    return [product for product in catalog.products.values() if product.prices]


def push_catalog(
    client: stripe.StripeClient, catalog: Catalog, progress: Progress | None = None
) -> PushReport:
    """Creates or updates Stripe's products, prices, billing portal configurations, coupons
    and promotion codes to match ``catalog``; see module doc, ``portal_push`` and
    ``discount_push``.

    Order matters for a crash half-way: a new price is created (taking the lookup key over)
    before the old one is deactivated, so checkouts always find an active price; portal
    configurations come last, naming the prices now selling. Running the push again finishes
    the job.
    """
    pusher = _Pusher(client, progress)
    sold = list(sold_products(catalog))
    meters = MeterPush(client, pusher.say)
    meters.meters(catalog)
    for product in sold:
        pusher.product(product)
        in_use = pusher.prices(product)
        in_use |= meters.prices(catalog, product, stripe_product_id(product.id))
        pusher.deactivate_prices(stripe_product_id(product.id), keep=in_use)
    _report_meters(pusher.report, meters)
    pusher.archive_unsold({product.id for product in sold})
    portal = PortalPush(client, pusher.say)
    portal.run(catalog, stripe_product_id, pusher.price_ids)
    pusher.report.portal_configurations_created = portal.created
    pusher.report.portal_configurations_updated = portal.updated
    pusher.report.portal_configurations_deactivated = portal.deactivated
    pusher.report.unchanged += portal.unchanged
    _push_discounts(client, catalog, pusher)
    return pusher.report


def _report_meters(report: PushReport, meters: MeterPush) -> None:
    report.meters_created = meters.meters_created
    report.meters_updated = meters.meters_updated
    report.meters_deactivated = meters.meters_deactivated
    report.prices_created += meters.prices_created
    report.prices_replaced += meters.prices_replaced
    report.prices_reactivated += meters.prices_reactivated
    report.unchanged += meters.unchanged


def _push_discounts(client: stripe.StripeClient, catalog: Catalog, pusher: _Pusher) -> None:
    discounts = DiscountPush(client, pusher.say)
    discounts.run(catalog)
    report = pusher.report
    report.coupons_created = discounts.coupons_created
    report.coupons_updated = discounts.coupons_updated
    report.coupons_deleted = discounts.coupons_deleted
    report.promotion_codes_created = discounts.codes_created
    report.promotion_codes_updated = discounts.codes_updated
    report.promotion_codes_deactivated = discounts.codes_deactivated
    report.unchanged += discounts.unchanged
