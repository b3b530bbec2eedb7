"""A product line's price list, built from the active catalog.

Amounts stay integers in minor units (the catalog's decimal strings converted per currency)
and are formatted once here, so no page or client does money arithmetic in floating point.
Server-only products, and products with no price that are not the line's default, are left
out: a visitor cannot buy them.
"""

from __future__ import annotations

from dataclasses import dataclass

from plangate.domain.catalog import Catalog, Line, Price, Product
from plangate.domain.intervals import Interval
from plangate.domain.money import format_money, from_minor_units
from plangate.errors import NotFound
from plangate.services.entitlements.catalog import CatalogCache
from plangate.store.db import Database

ONCE = "once"
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass(frozen=True)
class Amount:
    currency: str
    unit_amount: int
    amount_decimal: str
    display: str


@dataclass(frozen=True)
class Saving:
    """What a yearly price saves against twelve months of the monthly one."""

    currency: str
    unit_amount: int
    display: str
    percent: int


@dataclass(frozen=True)
class PriceOption:
    id: str
    # "month", "year", "3 months"; "once" for a one-time price.
    interval: str
    trial_days: int | None
    amounts: tuple[Amount, ...]
    savings: tuple[Saving, ...] = ()

    def amount(self, currency: str) -> Amount | None:
        return next((a for a in self.amounts if a.currency == currency), None)

    def saving(self, currency: str) -> Saving | None:
        return next((s for s in self.savings if s.currency == currency), None)


@dataclass(frozen=True)
class FeatureLine:
    id: str
    name: str
    description: str | None


@dataclass(frozen=True)
class ItemLine:
    id: str
    name: str
    quantity: int
    # How often it refills ("month", "3 months"), None when it does not.
    repeat: str | None
    text: str


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    description: str | None
    default: bool
    features: tuple[FeatureLine, ...]
    items: tuple[ItemLine, ...]
    prices: tuple[PriceOption, ...]

    def price_for(self, interval: str) -> PriceOption | None:
        return next((p for p in self.prices if p.interval == interval), None)


@dataclass(frozen=True)
class PricingTable:
    line_id: str
    name: str
    description: str | None
    customer_type: str
    # Shortest first; "once" last.
    intervals: tuple[str, ...]
    currencies: tuple[str, ...]
    plans: tuple[Plan, ...]

    @property
    def default_currency(self) -> str:
        return "usd" if "usd" in self.currencies or not self.currencies else self.currencies[0]

    def plans_for(self, interval: str | None) -> tuple[Plan, ...]:
        """The plans to show under one interval: those priced in it, and the default."""
        return tuple(p for p in self.plans if p.default or p.price_for(interval or "") is not None)


def _interval_text(interval: Interval | None) -> str:
    return ONCE if interval is None else str(interval)


def _interval_order(text: str) -> tuple[int, str]:
    if text == ONCE:
        return (10**9, text)
    count, _, unit = text.rpartition(" ")
    unit = unit.removesuffix("s")
    return (int(count or 1) * _UNIT_DAYS.get(unit, 1), text)


def _amounts(price: Price) -> tuple[Amount, ...]:
    found = []
    for currency in sorted(price.amounts):
        units = price.minor_amount(currency)
        found.append(Amount(currency, units, from_minor_units(units, currency),
                            format_money(units, currency)))
    return tuple(found)


def _savings(price: Price, product: Product) -> tuple[Saving, ...]:
    if price.interval != Interval("year"):
        return ()
    monthly = next(
        (p for p in product.prices.values() if p.interval == Interval("month")), None
    )
    if monthly is None:
        return ()
    savings = []
    for currency in sorted(price.amounts):
        if currency not in monthly.amounts:
            continue
        twelve = monthly.minor_amount(currency) * 12
        saved = twelve - price.minor_amount(currency)
        if saved > 0:
            savings.append(Saving(currency, saved, format_money(saved, currency),
                                  saved * 100 // twelve))
    return tuple(savings)


def _item_text(quantity: int, name: str, repeat: str | None) -> str:
    text = f"{quantity:,} {name}"
    return f"{text} every {repeat}" if repeat else text


def _plan(catalog: Catalog, product: Product) -> Plan:
    features = tuple(
        FeatureLine(fid, catalog.features[fid].name, catalog.features[fid].description)
        if fid in catalog.features else FeatureLine(fid, fid, None)
        for fid in product.features
    )
    items = []
    for item_id, grant in product.items.items():
        name = catalog.items[item_id].name if item_id in catalog.items else item_id
        repeat = str(grant.repeat) if grant.repeat is not None else None
        items.append(ItemLine(item_id, name, grant.quantity, repeat,
                              _item_text(grant.quantity, name, repeat)))
    prices = tuple(
        sorted(
            (
                PriceOption(
                    price_id,
                    _interval_text(price.interval),
                    product.effective_trial_days(price_id),
                    _amounts(price),
                    _savings(price, product),
                )
                for price_id, price in product.prices.items()
            ),
            key=lambda option: _interval_order(option.interval),
        )
    )
    return Plan(product.id, product.name, product.description, product.default, features,
                tuple(items), prices)


def _visible(product: Product, line_id: str) -> bool:
    return (
        product.line == line_id
        and not product.server_only
        and (product.default or bool(product.prices))
    )


def pricing_table(catalog: Catalog, line_id: str) -> PricingTable:
    """The line's price list, or 404 ``line_not_found`` for a line the catalog lacks or
    one with nothing a visitor can see."""
    line: Line | None = catalog.lines.get(line_id)
    products = [p for p in catalog.products.values() if _visible(p, line_id)]
    if line is None or not products:
        raise NotFound("line_not_found", f"no product line {line_id!r} to show", param="line")
    # The default (free) plan first, then the catalog's own order.
    products.sort(key=lambda p: not p.default)
    plans = tuple(_plan(catalog, p) for p in products)
    intervals = sorted({o.interval for plan in plans for o in plan.prices}, key=_interval_order)
    currencies = sorted({a.currency for plan in plans for o in plan.prices for a in o.amounts})
    return PricingTable(line.id, line.name, line.description, line.customer_type,
                        tuple(intervals), tuple(currencies), plans)


def public_lines(catalog: Catalog) -> list[Line]:
    """The lines with something a visitor can see, by id."""
    shown = {p.line for p in catalog.products.values() if p.line and _visible(p, p.line)}
    return [catalog.lines[i] for i in sorted(shown) if i in catalog.lines]


def read_pricing_table(db: Database, catalogs: CatalogCache, line_id: str) -> PricingTable:
    with db.read() as session:
        catalog = catalogs.active(session)
    return pricing_table(catalog, line_id)


def read_public_lines(db: Database, catalogs: CatalogCache) -> list[Line]:
    with db.read() as session:
        catalog = catalogs.active(session)
    return public_lines(catalog)
