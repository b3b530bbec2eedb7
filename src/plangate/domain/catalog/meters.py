"""Usage-based billing in the catalog: meters, and the metered prices that bill their usage.

```toml
[meters.api_calls]
name = "API calls"
aggregation = "sum"            # sum (default) | count | last
limit_item = "api_quota"       # optional: a catalog item whose balance caps the usage

[metered_prices.pro_api_calls]
product = "pro"                # billed on the subscriptions that buy this product ...
meter = "api_calls"
interval = "month"             # ... with a recurring price of this interval (default month)
included = 1000                # free units each period, before overage (a first free tier)
unit_amounts = { usd = "0.01" }            # per unit; or tiers:
# tiers_mode = "graduated"     # or "volume"
# tiers = [{ up_to = 10000, unit_amounts = { usd = "0.02" } },
#          { up_to = "inf", unit_amounts = { usd = "0.01" }, flat_amounts = { usd = "5.00" } }]
```

A metered price becomes, per currency, one Stripe price with `usage_type=metered` on the
meter's Stripe meter: per unit, or tiered (`included` is a first tier at 0, and the declared
tiers' `up_to` count from zero, included units too).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from plangate.domain.catalog.model import FrozenMap, Product
from plangate.domain.catalog.reader import Reader, join_path
from plangate.domain.intervals import Interval
from plangate.domain.money import MoneyError, to_minor_units

__all__ = [
    "AGGREGATIONS", "Meter", "MeteredPrice", "Tier", "meter_event_name", "read_meters",
    "read_metered_prices",
]

Aggregation = Literal["sum", "count", "last"]
AGGREGATIONS: tuple[str, ...] = ("sum", "count", "last")
TIERS_MODES: tuple[str, ...] = ("graduated", "volume")
METER_FIELDS = ("name", "aggregation", "limit_item")
PRICE_FIELDS = ("product", "meter", "interval", "included", "unit_amounts", "tiers_mode", "tiers")
TIER_FIELDS = ("up_to", "unit_amounts", "flat_amounts")


def meter_event_name(meter_id: str) -> str:
    """The Stripe meter's `event_name` for a catalog meter."""
    return f"plangate_{meter_id}"


@dataclass(frozen=True)
class Meter:
    """What usage is counted: reported to Stripe as meter events named `event_name`."""

    id: str
    name: str
    aggregation: Aggregation = "sum"
    # A catalog item whose balance caps the usage: each record consumes its usage (a `sum`
    # meter: the quantity; a `count` meter: 1) from the customer's balance, or is refused.
    limit_item: str | None = None

    @property
    def event_name(self) -> str:
        return meter_event_name(self.id)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "aggregation": self.aggregation}
        if self.limit_item is not None:
            out["limit_item"] = self.limit_item
        return out


@dataclass(frozen=True)
class Tier:
    """Up to `up_to` units (None: no limit), each at `unit_amounts`, plus `flat_amounts`
    when reached; amounts are canonical decimal strings by currency."""

    up_to: int | None
    unit_amounts: FrozenMap[str, str]
    flat_amounts: FrozenMap[str, str]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"up_to": "inf" if self.up_to is None else self.up_to}
        if self.unit_amounts:
            out["unit_amounts"] = dict(self.unit_amounts)
        if self.flat_amounts:
            out["flat_amounts"] = dict(self.flat_amounts)
        return out


@dataclass(frozen=True)
class MeteredPrice:
    id: str
    product: str
    meter: str
    interval: Interval
    included: int = 0
    unit_amounts: FrozenMap[str, str] = FrozenMap()
    tiers_mode: str | None = None
    tiers: tuple[Tier, ...] = ()

    @property
    def currencies(self) -> tuple[str, ...]:
        if self.tiers:
            return tuple(self.tiers[0].unit_amounts or self.tiers[0].flat_amounts)
        return tuple(self.unit_amounts)

    def stripe_tiers(self, currency: str) -> list[tuple[int | None, int, int]] | None:
        """Stripe's tiers in minor units, `(up_to, unit_amount, flat_amount)`, or None for a
        plain per-unit price."""
        if not self.tiers:
            if not self.included:
                return None
            unit = to_minor_units(self.unit_amounts[currency], currency)
            return [(self.included, 0, 0), (None, unit, 0)]
        out: list[tuple[int | None, int, int]] = [(self.included, 0, 0)] if self.included else []
        for tier in self.tiers:
            unit_amount = tier.unit_amounts.get(currency, "0")
            flat_amount = tier.flat_amounts.get(currency, "0")
            out.append((tier.up_to, to_minor_units(unit_amount, currency),
                        to_minor_units(flat_amount, currency)))
        return out

    def unit_amount(self, currency: str) -> int:
        return to_minor_units(self.unit_amounts[currency], currency)

    def stripe_mode(self) -> str:
        """`graduated` for included units on a per-unit price."""
        return self.tiers_mode or "graduated"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"product": self.product, "meter": self.meter,
                               "interval": str(self.interval), "included": self.included}
        if self.tiers:
            out["tiers_mode"] = self.tiers_mode
            out["tiers"] = [tier.to_dict() for tier in self.tiers]
        else:
            out["unit_amounts"] = dict(self.unit_amounts)
        return out


def read_meters(r: Reader, data: Mapping[str, Any], items: Collection[str]) -> dict[str, Meter]:
    meters: dict[str, Meter] = {}
    for mid, value in (r.table(data.get("meters", {}), "meters") or {}).items():
        path = join_path("meters", mid)
        body = r.table(value, path) if r.id(mid, path, "meter") else None
        if body is None:
            continue
        r.fields(body, METER_FIELDS, path)
        name = r.string(body, "name", path) or mid
        aggregation = r.choice(body, "aggregation", path, AGGREGATIONS) or "sum"
        limit_item = r.string(body, "limit_item", path)
        if limit_item is not None and limit_item not in items:
            r.add(join_path(path, "limit_item"), "unknown_reference",
                  f"item {limit_item!r} is not in the catalog's items")
        elif limit_item is not None and aggregation == "last":
            r.add(join_path(path, "limit_item"), "value_invalid",
                  "a `last` meter's usage is a level, not an amount used: it cannot consume an "
                  "item")
        meters[mid] = Meter(mid, name, cast(Aggregation, aggregation), limit_item)
    return meters


def _amounts(r: Reader, value: object, path: str) -> FrozenMap[str, str] | None:
    table = r.table(value, path)
    if table is None:
        return None
    out: dict[str, str] = {}
    for currency, amount in table.items():
        at = join_path(path, currency)
        if not isinstance(amount, str):
            r.add(at, "field_type", 'an amount is a decimal string such as "0.01"')
            continue
        try:
            to_minor_units(amount, currency)
        except MoneyError as error:
            r.add(at, error.code, error.message)
            continue
        out[currency.lower()] = amount
    return FrozenMap(out)


def _tiers(r: Reader, body: Mapping[str, Any], path: str, included: int) -> tuple[Tier, ...]:
    raw = body.get("tiers")
    at = join_path(path, "tiers")
    if not isinstance(raw, list) or not raw:
        r.add(at, "field_type", "tiers must be a non-empty list of tables")
        return ()
    tiers: list[Tier] = []
    floor = included
    for index, entry in enumerate(raw):
        tier_path = join_path(at, index)
        table = r.table(entry, tier_path)
        if table is None:
            continue
        r.fields(table, TIER_FIELDS, tier_path)
        last = index == len(raw) - 1
        up = table.get("up_to")
        up_to: int | None = None
        if last and up != "inf":
            r.add(join_path(tier_path, "up_to"), "value_invalid", 'the last tier is up_to "inf"')
        elif not last and (isinstance(up, bool) or not isinstance(up, int) or up <= floor):
            r.add(join_path(tier_path, "up_to"), "value_invalid",
                  f"up_to must be a whole number above {floor} (the tier before, or included)")
        elif not last:
            up_to = floor = cast(int, up)
        units = _amounts(r, table.get("unit_amounts", {}), join_path(tier_path, "unit_amounts"))
        flats = _amounts(r, table.get("flat_amounts", {}), join_path(tier_path, "flat_amounts"))
        if units is not None and flats is not None:
            if not units and not flats:
                r.add(tier_path, "field_required", "a tier needs unit_amounts or flat_amounts")
            tiers.append(Tier(up_to, units, flats))
    currencies = {frozenset(set(t.unit_amounts) | set(t.flat_amounts)) for t in tiers}
    if len(currencies) > 1:
        r.add(at, "value_invalid", "every tier must price the same currencies")
    return tuple(tiers)


def read_metered_prices(r: Reader, data: Mapping[str, Any], meters: Mapping[str, Meter],
                        products: Mapping[str, Product]) -> dict[str, MeteredPrice]:
    out: dict[str, MeteredPrice] = {}
    section = r.table(data.get("metered_prices", {}), "metered_prices") or {}
    for pid, value in section.items():
        path = join_path("metered_prices", pid)
        body = r.table(value, path) if r.id(pid, path, "metered price") else None
        if body is None:
            continue
        r.fields(body, PRICE_FIELDS, path)
        before = len(r.problems)
        product_id = r.string(body, "product", path)
        product = products.get(product_id or "")
        if product is None:
            r.add(join_path(path, "product"), "unknown_reference",
                  f"product {product_id!r} is not in the catalog")
        meter = r.string(body, "meter", path)
        if meter not in meters:
            r.add(join_path(path, "meter"), "unknown_reference",
                  f"meter {meter!r} is not in the catalog's meters")
        interval = r.interval(body.get("interval", "month"), join_path(path, "interval"),
                              "interval")
        if product is not None and interval is not None and not any(
                p.interval == interval for p in product.prices.values()):
            r.add(join_path(path, "interval"), "value_invalid",
                  f"product {product.id!r} has no recurring price every {interval}: a metered "
                  "price is billed on such a subscription")
        included = r.integer(body, "included", path) or 0
        if included < 0:
            r.add(join_path(path, "included"), "value_invalid", "included must be 0 or more")
        mode = r.choice(body, "tiers_mode", path, TIERS_MODES)
        has_tiers, has_units = "tiers" in body, "unit_amounts" in body
        if has_tiers == has_units:
            r.add(path, "field_required", "a metered price has unit_amounts or tiers (one)")
        units = _amounts(r, body["unit_amounts"], join_path(path, "unit_amounts")) \
            if has_units else FrozenMap[str, str]()
        tiers = _tiers(r, body, path, included) if has_tiers else ()
        if has_tiers and mode is None:
            r.add(join_path(path, "tiers_mode"), "field_required",
                  "tiers need tiers_mode: graduated or volume")
        if len(r.problems) == before and product_id and meter and interval is not None:
            out[pid] = MeteredPrice(pid, product_id, meter, interval, included,
                                    units or FrozenMap(), mode if has_tiers else None, tiers)
    return out
