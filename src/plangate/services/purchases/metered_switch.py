"""The metered items of a plan switch on the stripe gateway.

A subscription bills its plan with one licensed item and each metered price of the product
with a metered item (no quantity; the meter's usage bills in arrears). A switch changes the
licensed item's price and brings the metered items in line with the target product's metered
prices, matched by Stripe meter:

- the same meter at the same Stripe price: the item stays as it is;
- the same meter at another price: the item takes the target's price;
- a meter the target does not bill: the item is deleted;
- a meter only the target bills: an item is added.

In Stripe's classic billing mode a metered item repriced or deleted mid-period bills only the
usage after the change (docs/usage.md, "Plan switches").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from plangate.gateways.base import StripeDict


def is_metered(price: StripeDict) -> bool:
    return (price.get("recurring") or {}).get("usage_type") == "metered"


def _meter(price: StripeDict) -> str:
    return str((price.get("recurring") or {}).get("meter") or price.get("id"))


def _price_id(item: StripeDict) -> str:
    return str(item["price"]["id"])


def metered_item_changes(
    current: Sequence[StripeDict], target: Iterable[StripeDict]
) -> list[dict[str, Any]]:
    """The ``items`` entries of a subscription update that turn the ``current`` metered items
    into items of the ``target`` Stripe prices (see the module docstring)."""
    wanted = {_meter(price): str(price["id"]) for price in target}
    changes: list[dict[str, Any]] = []
    for item in current:
        new_price = wanted.pop(_meter(item["price"]), None)
        if new_price is None:
            changes.append({"id": item["id"], "deleted": True})
        elif new_price != _price_id(item):
            changes.append({"id": item["id"], "price": new_price})
    changes.extend({"price": price} for price in wanted.values())
    return changes


def phase_items(current: Sequence[StripeDict]) -> list[dict[str, Any]]:
    """A schedule phase's items for the ``current`` metered items (a phase names every item of
    the subscription; metered ones have no quantity)."""
    return [{"price": _price_id(item)} for item in current]
