"""The catalog's immutable value objects and their canonical dict form.

Everything here is frozen and compares and hashes by content. The canonical dict (`to_dict`)
is also a valid input to the parser, so `Catalog.from_dict(c.to_dict()) == c`, and its JSON
with sorted keys is what `Catalog.version` hashes: reordering, reformatting or commenting the
TOML changes nothing, any change of meaning changes the version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from plangate.domain.catalog.discounts import Coupon, PromotionCode

if TYPE_CHECKING:
    from plangate.domain.catalog.meters import Meter, MeteredPrice
from plangate.domain.intervals import Interval
from plangate.domain.money import MoneyError, get_currency, to_minor_units

__all__ = [
    "Catalog",
    "CatalogInvalid",
    "CustomerType",
    "ExpiresPolicy",
    "Feature",
    "FrozenMap",
    "Item",
    "ItemGrant",
    "Line",
    "Price",
    "Problem",
    "Product",
]

CustomerType = Literal["user", "team", "custom"]
ExpiresPolicy = Literal["never", "when_repeated", "when_purchase_expires"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only mapping that hashes by content, so catalog objects can be hashed and cached.

    Iteration keeps insertion order (the catalog file's order, which pricing pages want);
    equality and hashing ignore it, as for dicts.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog: where (dotted path), what (stable code), and why."""

    path: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path or '(catalog)'}: {self.message} [{self.code}]"


class CatalogInvalid(ValueError):
    """A catalog or product definition with problems; carries all of them, not just the first."""

    code = "catalog_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"catalog invalid ({len(self.problems)} problem(s)):\n{lines}")

    @property
    def codes(self) -> set[str]:
        return {problem.code for problem in self.problems}


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    # Absent optional fields are left out rather than null: the canonical dict must be TOML.
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Feature:
    """A boolean entitlement."""

    id: str
    name: str
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _without_none({"name": self.name, "description": self.description})


@dataclass(frozen=True)
class Item:
    """A quantity a customer holds (credits, seats)."""

    id: str
    name: str
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _without_none({"name": self.name, "description": self.description})


@dataclass(frozen=True)
class Line:
    """A set of mutually exclusive products for one customer type."""

    id: str
    name: str
    customer_type: CustomerType
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "customer_type": self.customer_type,
                "description": self.description,
            }
        )


@dataclass(frozen=True)
class ItemGrant:
    """How much of an item a product grants, whether it refills, and when grants expire."""

    quantity: int
    repeat: Interval | None = None
    expires: ExpiresPolicy = "when_purchase_expires"

    def to_dict(self) -> dict[str, Any]:
        repeat = str(self.repeat) if self.repeat is not None else "never"
        return {"quantity": self.quantity, "repeat": repeat, "expires": self.expires}


@dataclass(frozen=True)
class Price:
    """One way to pay for a product. `amounts` maps lowercase currency → canonical decimal."""

    id: str
    amounts: FrozenMap[str, str]
    interval: Interval | None = None
    trial_days: int | None = None

    @property
    def is_recurring(self) -> bool:
        return self.interval is not None

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(self.amounts)

    def minor_amount(self, currency: str) -> int:
        """The amount in Stripe's minor units; `currency_not_offered` if the price lacks it."""
        code = get_currency(currency).code
        amount = self.amounts.get(code)
        if amount is None:
            raise MoneyError(
                "currency_not_offered", f"price {self.id!r} has no amount in {code.upper()}"
            )
        return to_minor_units(amount, code)

    def to_dict(self) -> dict[str, Any]:
        return _without_none(
            {
                "amounts": dict(self.amounts),
                "interval": str(self.interval) if self.interval is not None else None,
                "trial_days": self.trial_days,
            }
        )


@dataclass(frozen=True)
class Product:
    """What is sold or granted. See docs/catalog.md for every field."""

    id: str
    name: str
    customer_type: CustomerType
    line: str | None = None
    default: bool = False
    features: tuple[str, ...] = ()
    items: FrozenMap[str, ItemGrant] = field(default_factory=FrozenMap)
    prices: FrozenMap[str, Price] = field(default_factory=FrozenMap)
    trial_days: int | None = None
    add_on_to: tuple[str, ...] = ()
    server_only: bool = False
    stackable: bool = False
    metadata: FrozenMap[str, str] = field(default_factory=FrozenMap)
    description: str | None = None

    @property
    def is_subscription(self) -> bool:
        """Bought with a recurring price (a plan, a monthly add-on)."""
        return any(price.is_recurring for price in self.prices.values())

    @property
    def is_one_time(self) -> bool:
        """Sold only with one-time prices (a credit pack)."""
        return bool(self.prices) and not self.is_subscription

    @property
    def is_add_on(self) -> bool:
        return bool(self.add_on_to)

    def price(self, price_id: str) -> Price | None:
        return self.prices.get(price_id)

    def effective_trial_days(self, price_id: str) -> int | None:
        """The free trial bought with this price: the price's own, else the product's.

        None for one-time prices and unknown price ids; 0 (a price that opts out) is no trial.
        """
        price = self.prices.get(price_id)
        if price is None or not price.is_recurring:
            return None
        days = price.trial_days if price.trial_days is not None else self.trial_days
        return days or None

    def _body(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "description": self.description,
                "customer_type": self.customer_type,
                "line": self.line,
                "default": self.default,
                "features": list(self.features),
                "items": {item_id: grant.to_dict() for item_id, grant in self.items.items()},
                "prices": {price_id: price.to_dict() for price_id, price in self.prices.items()},
                "trial_days": self.trial_days,
                "add_on_to": list(self.add_on_to),
                "server_only": self.server_only,
                "stackable": self.stackable,
                "metadata": dict(self.metadata),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot (ownerships keep one), including the id."""
        return {"id": self.id, **self._body()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        """Load a snapshot written by `to_dict`.

        Checks the shape, not the catalog's policies, so a snapshot taken under older rules
        still loads. Problems are reported under `product.`.
        """
        from plangate.domain.catalog.parse import load_product_snapshot

        return load_product_snapshot(data)


@dataclass(frozen=True)
class Catalog:
    """All features, items, lines, products, coupons and promotion codes, identified by a
    content hash (`version`)."""

    features: FrozenMap[str, Feature] = field(default_factory=FrozenMap)
    items: FrozenMap[str, Item] = field(default_factory=FrozenMap)
    lines: FrozenMap[str, Line] = field(default_factory=FrozenMap)
    products: FrozenMap[str, Product] = field(default_factory=FrozenMap)
    version_label: str | None = None
    coupons: FrozenMap[str, Coupon] = field(default_factory=FrozenMap)
    promotion_codes: FrozenMap[str, PromotionCode] = field(default_factory=FrozenMap)
    meters: FrozenMap[str, Meter] = field(default_factory=FrozenMap)
    metered_prices: FrozenMap[str, MeteredPrice] = field(default_factory=FrozenMap)
    version: str = field(init=False, compare=False, repr=True)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
        object.__setattr__(self, "version", "cv_" + digest[:16])

    def __hash__(self) -> int:
        return hash(self.version)

    def to_dict(self) -> dict[str, Any]:
        """The canonical, normalized form: JSON-able, TOML-able, and valid parser input."""
        return _without_none(
            {
                "version_label": self.version_label,
                "features": {key: value.to_dict() for key, value in self.features.items()},
                "items": {key: value.to_dict() for key, value in self.items.items()},
                "lines": {key: value.to_dict() for key, value in self.lines.items()},
                "products": {key: value._body() for key, value in self.products.items()},
                # Left out when empty, so catalogs without discounts keep their version.
                "coupons": {key: value.to_dict() for key, value in self.coupons.items()}
                or None,
                "promotion_codes": {
                    key: value.to_dict() for key, value in self.promotion_codes.items()
                }
                or None,
                # Usage-based billing (domain/catalog/meters.py), left out when empty too.
                "meters": {key: value.to_dict() for key, value in self.meters.items()} or None,
                "metered_prices": {
                    key: value.to_dict() for key, value in self.metered_prices.items()
                }
                or None,
            }
        )

    def metered_prices_of(self, product_id: str) -> tuple[MeteredPrice, ...]:
        """The metered prices billed on the product's subscriptions, in catalog order."""
        return tuple(p for p in self.metered_prices.values() if p.product == product_id)

    def canonical_json(self) -> str:
        """Sorted, compact JSON of `to_dict()`: what `version` hashes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def to_toml(self) -> str:
        """The catalog as `plangate.toml` text (for `plangate catalog export`)."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalog:
        """Validate and build a catalog from its dict form; raises CatalogInvalid."""
        from plangate.domain.catalog.parse import parse_catalog

        return parse_catalog(data)

    def promotion_code(self, code: str) -> PromotionCode | None:
        """The promotion code customers type, compared without case (as Stripe does)."""
        wanted = code.strip().lower()
        for promo in self.promotion_codes.values():
            if promo.code.lower() == wanted:
                return promo
        return None

    def products_in_line(self, line_id: str) -> tuple[Product, ...]:
        """The line's products, in catalog order."""
        return tuple(product for product in self.products.values() if product.line == line_id)

    def default_product(self, line_id: str) -> Product | None:
        """The product owned implicitly while no other product of the line is owned."""
        for product in self.products_in_line(line_id):
            if product.default:
                return product
        return None

    def add_ons_of(self, product_id: str) -> tuple[Product, ...]:
        """The add-ons that can be bought on top of this product."""
        return tuple(p for p in self.products.values() if product_id in p.add_on_to)
