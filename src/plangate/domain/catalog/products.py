"""Reading one product, and the rules a product must follow.

Shared by the catalog parser, inline product definitions and stored product snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast, get_args

from plangate.domain.catalog.model import (
    CustomerType,
    ExpiresPolicy,
    FrozenMap,
    ItemGrant,
    Price,
    Product,
)
from plangate.domain.catalog.reader import Reader, join_path, type_name
from plangate.domain.money import (
    MoneyError,
    check_chargeable,
    from_minor_units,
    get_currency,
    to_minor_units,
)

__all__ = [
    "CUSTOMER_TYPES",
    "MAX_QUANTITY",
    "MAX_TRIAL_DAYS",
    "ProductDraft",
    "check_product_policy",
    "check_product_references",
    "read_product",
]

CUSTOMER_TYPES: tuple[str, ...] = get_args(CustomerType)
_EXPIRES: tuple[str, ...] = get_args(ExpiresPolicy)

# Stripe's limits: trial_period_days <= 730; metadata keys <= 40 chars, values <= 500, 50 keys.
MAX_TRIAL_DAYS = 730
MAX_QUANTITY = 10**15  # beyond any real balance, and still exact in a JavaScript number
_METADATA_MAX_KEYS, _METADATA_MAX_KEY, _METADATA_MAX_VALUE = 50, 40, 500

PRODUCT_FIELDS = (
    "name", "description", "customer_type", "line", "default", "features", "items", "prices",
    "trial_days", "add_on_to", "server_only", "stackable", "metadata",
)  # fmt: skip
_GRANT_FIELDS = ("quantity", "repeat", "expires")
_PRICE_FIELDS = ("amounts", "interval", "trial_days")


@dataclass
class ProductDraft:
    """A product as read so far; fields that failed are None/missing and skip later checks."""

    id: str
    path: str
    name: str
    customer_type: CustomerType | None
    line: str | None = None
    default: bool = False
    features: list[tuple[str, str]] = field(default_factory=list)
    items: dict[str, ItemGrant] = field(default_factory=dict)
    item_paths: dict[str, str] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    prices_complete: bool = True  # False if a price failed: "has no recurring price" is unknown
    trial_days: int | None = None
    add_on_to: list[tuple[str, str]] = field(default_factory=list)
    server_only: bool = False
    stackable: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    description: str | None = None

    def build(self) -> Product:
        assert self.customer_type is not None  # only built when there were no problems
        return Product(
            id=self.id,
            name=self.name,
            customer_type=self.customer_type,
            line=self.line,
            default=self.default,
            features=tuple(sorted(feature for _, feature in self.features)),
            items=FrozenMap(self.items),
            prices=FrozenMap(self.prices),
            trial_days=self.trial_days,
            add_on_to=tuple(sorted(target for _, target in self.add_on_to)),
            server_only=self.server_only,
            stackable=self.stackable,
            metadata=FrozenMap(sorted(self.metadata.items())),
            description=self.description,
        )


def _read_amounts(r: Reader, value: object, path: str) -> dict[str, str] | None:
    if value is None or (isinstance(value, Mapping) and not value):
        r.add(path, "price_without_amounts", 'a price needs at least one amount, e.g. usd = "9.99"')
        return None
    table = r.table(value, path)
    if table is None:
        return None
    amounts: dict[str, str] = {}
    ok = True
    for code, amount in table.items():
        amount_path = join_path(path, code)
        try:
            currency = get_currency(str(code))
        except MoneyError as error:
            r.add(amount_path, error.code, error.message)
            ok = False
            continue
        if isinstance(amount, bool) or not isinstance(amount, str):
            # An unquoted 19.99 is a float (already inexact) and an unquoted 1999 is ambiguous
            # with Stripe's minor units; only a quoted decimal says exactly what is meant.
            r.add(
                amount_path,
                "field_type",
                f'amounts must be quoted decimal strings: write {code} = "{amount}", '
                f"not {type_name(amount)} (money is never a float)",
            )
            ok = False
            continue
        if currency.code in amounts:
            r.add(amount_path, "currency_duplicate", f"{currency.upper} is given twice")
            ok = False
            continue
        try:
            units = to_minor_units(amount, currency)
            check_chargeable(units, currency)
        except MoneyError as error:
            r.add(amount_path, error.code, error.message)
            ok = False
            continue
        amounts[currency.code] = from_minor_units(units, currency)
    return dict(sorted(amounts.items())) if ok else None


def _read_price(r: Reader, price_id: str, value: object, path: str) -> Price | None:
    table = r.table(value, path)
    if table is None:
        return None
    count = len(r.problems)
    r.fields(table, _PRICE_FIELDS, path)
    amounts = _read_amounts(r, table.get("amounts"), join_path(path, "amounts"))
    interval = None
    if table.get("interval") is not None:
        interval = r.interval(table["interval"], join_path(path, "interval"), "interval")
    trial_days = r.integer(table, "trial_days", path)
    if len(r.problems) > count or amounts is None:
        return None
    return Price(price_id, FrozenMap(amounts), interval, trial_days)


def _read_grant(r: Reader, value: object, path: str) -> ItemGrant | None:
    table = r.table(value, path)
    if table is None:
        return None
    count = len(r.problems)
    r.fields(table, _GRANT_FIELDS, path)
    quantity = r.integer(table, "quantity", path)
    if "quantity" not in table:
        r.add(join_path(path, "quantity"), "field_required", "quantity is required")
    elif quantity is not None and quantity < 0:
        r.add(join_path(path, "quantity"), "quantity_negative", f"quantity {quantity} is negative")
    elif quantity is not None and quantity > MAX_QUANTITY:
        r.add(
            join_path(path, "quantity"), "quantity_too_large", f"quantity is above {MAX_QUANTITY}"
        )
    repeat = None
    raw_repeat = table.get("repeat", "never")
    if raw_repeat != "never":
        repeat = r.interval(raw_repeat, join_path(path, "repeat"), "repeat")
    expires = r.choice(table, "expires", path, _EXPIRES) or "when_purchase_expires"
    if len(r.problems) > count or quantity is None:
        return None
    if expires == "when_repeated" and repeat is None:
        r.add(
            join_path(path, "expires"),
            "expires_when_repeated_without_repeat",
            'expires = "when_repeated" needs a repeat interval (repeat = "month")',
        )
        return None
    return ItemGrant(quantity, repeat, cast(ExpiresPolicy, expires))


def read_product(r: Reader, product_id: str, value: object, path: str) -> ProductDraft | None:
    """Pass 1: the shape of one product."""
    table = r.table(value, path)
    if table is None:
        return None
    r.fields(table, PRODUCT_FIELDS, path)
    if "customer_type" not in table:
        r.add(join_path(path, "customer_type"), "field_required", "customer_type is required")
    draft = ProductDraft(
        id=product_id,
        path=path,
        name=r.string(table, "name", path) or product_id,
        description=r.string(table, "description", path),
        customer_type=cast(
            CustomerType | None, r.choice(table, "customer_type", path, CUSTOMER_TYPES)
        ),
        line=r.string(table, "line", path),
        default=r.boolean(table, "default", path),
        features=r.id_list(table, "features", path),
        trial_days=r.integer(table, "trial_days", path),
        add_on_to=r.id_list(table, "add_on_to", path),
        server_only=r.boolean(table, "server_only", path),
        stackable=r.boolean(table, "stackable", path),
    )
    items = r.table(table.get("items", {}), join_path(path, "items")) or {}
    for item_id, grant_value in items.items():
        item_path = join_path(join_path(path, "items"), item_id)
        grant = _read_grant(r, grant_value, item_path)
        draft.item_paths[item_id] = item_path
        if grant is not None:
            draft.items[item_id] = grant
    prices = r.table(table.get("prices", {}), join_path(path, "prices")) or {}
    for price_id, price_value in prices.items():
        price_path = join_path(join_path(path, "prices"), price_id)
        price = (
            _read_price(r, price_id, price_value, price_path)
            if r.id(price_id, price_path, "price")
            else None
        )
        if price is None:
            draft.prices_complete = False
        else:
            draft.prices[price_id] = price
    metadata = r.table(table.get("metadata", {}), join_path(path, "metadata")) or {}
    for key, text in metadata.items():
        if isinstance(text, str):
            draft.metadata[str(key)] = text
        else:
            r.add(
                join_path(join_path(path, "metadata"), key),
                "field_type",
                "metadata values are strings",
            )
    return draft


def check_product_policy(r: Reader, d: ProductDraft) -> None:
    """Pass 2: rules about a single product that do not need the rest of the catalog."""
    p = d.path
    if d.default and d.line is None:
        r.add(
            join_path(p, "default"),
            "default_product_without_line",
            "a default product must belong to a line (it is owned while nothing else in the "
            "line is)",
        )
    if d.default and (d.prices or not d.prices_complete):
        r.add(
            join_path(p, "prices"),
            "default_product_has_prices",
            "a default product is owned implicitly and can't have prices",
        )
    if d.default and d.server_only:
        r.add(
            join_path(p, "server_only"),
            "default_product_server_only",
            "a default product can't be server_only: customers would not see the plan they are on",
        )
    if d.stackable and d.line is not None:
        r.add(
            join_path(p, "stackable"),
            "stackable_with_line",
            "a stackable product can be owned many times, so it can't be in an exclusive line",
        )
    for price_id, price in d.prices.items():
        trial_path = join_path(join_path(join_path(p, "prices"), price_id), "trial_days")
        if price.trial_days is not None and not price.is_recurring:
            r.add(trial_path, "trial_days_invalid", "a one-time price can't have a free trial")
        elif price.trial_days is not None and not 0 <= price.trial_days <= MAX_TRIAL_DAYS:
            r.add(trial_path, "trial_days_invalid", f"trial_days must be 0 to {MAX_TRIAL_DAYS}")
    if d.trial_days is not None:
        trial_path = join_path(p, "trial_days")
        if not 0 <= d.trial_days <= MAX_TRIAL_DAYS:
            r.add(trial_path, "trial_days_invalid", f"trial_days must be 0 to {MAX_TRIAL_DAYS}")
        elif d.prices_complete and not any(price.is_recurring for price in d.prices.values()):
            r.add(
                trial_path,
                "trial_days_invalid",
                "trial_days needs a recurring price: only subscriptions have free trials",
            )
    if len(d.metadata) > _METADATA_MAX_KEYS:
        r.add(
            join_path(p, "metadata"),
            "metadata_invalid",
            f"at most {_METADATA_MAX_KEYS} metadata keys (a Stripe limit)",
        )
    for key, text in d.metadata.items():
        if not 1 <= len(key) <= _METADATA_MAX_KEY or len(text) > _METADATA_MAX_VALUE:
            r.add(
                join_path(join_path(p, "metadata"), key),
                "metadata_invalid",
                f"metadata keys are 1-{_METADATA_MAX_KEY} characters and values at most "
                f"{_METADATA_MAX_VALUE} (Stripe's limits)",
            )


def check_product_references(
    r: Reader,
    d: ProductDraft,
    features: Mapping[str, object],
    items: Mapping[str, object],
    lines: Mapping[str, CustomerType | None],
    products: Mapping[str, tuple[CustomerType | None, bool]],
) -> None:
    """Pass 3: what a product names must exist.

    `lines` maps id → customer type and `products` id → (customer type, is add-on); a None
    customer type was already reported, so checks against it are skipped.
    """
    for entry_path, feature_id in d.features:
        if feature_id not in features:
            r.add(entry_path, "unknown_feature", f"no feature {feature_id!r} in the catalog")
    for item_id, item_path in d.item_paths.items():
        if item_id not in items:
            r.add(item_path, "unknown_item", f"no item {item_id!r} in the catalog")
    if d.line is not None:
        if d.line not in lines:
            r.add(join_path(d.path, "line"), "unknown_line", f"no line {d.line!r} in the catalog")
        elif d.customer_type is not None and lines[d.line] not in (None, d.customer_type):
            r.add(
                join_path(d.path, "customer_type"),
                "line_customer_type_mismatch",
                f"product is for customer type {d.customer_type!r} but line {d.line!r} is for "
                f"{lines[d.line]!r}",
            )
    for entry_path, target_id in d.add_on_to:
        target = products.get(target_id)
        if target is None:
            r.add(entry_path, "unknown_product", f"no product {target_id!r} to be an add-on to")
            continue
        target_type, target_is_add_on = target
        if target_id == d.id:
            r.add(entry_path, "add_on_of_add_on", "a product can't be an add-on to itself")
        elif target_is_add_on:
            r.add(
                entry_path,
                "add_on_of_add_on",
                f"{target_id!r} is itself an add-on; add-ons attach to base products only",
            )
        elif d.customer_type is not None and target_type not in (None, d.customer_type):
            r.add(
                entry_path,
                "add_on_customer_type_mismatch",
                f"add-on is for {d.customer_type!r} customers but {target_id!r} is for "
                f"{target_type!r}",
            )
