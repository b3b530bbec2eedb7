"""What changed between two catalogs, for `plangate catalog diff` and the dashboard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from plangate.domain.catalog.model import Catalog, Product

__all__ = ["CatalogChange", "ChangeAction", "ChangeKind", "diff_catalogs"]

ChangeAction = Literal["added", "removed", "changed"]
ChangeKind = Literal[
    "catalog", "feature", "item", "line", "product", "price", "coupon", "promotion_code"
]


@dataclass(frozen=True)
class CatalogChange:
    """One difference. `path` is the dotted catalog path (`products.pro.prices.monthly`),
    `details` the changed fields ("trial_days: 14 → 30") and `text` a one-line summary."""

    action: ChangeAction
    kind: ChangeKind
    path: str
    text: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


_MISSING = object()


def _show(value: object) -> str:
    if value is _MISSING:
        return "(none)"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human lines for every leaf that differs between two canonical dicts."""
    changes: list[str] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if before == after:
            continue
        path = f"{prefix}{key}"
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            changes.extend(_field_changes(before, after, f"{path}."))
        elif isinstance(before, list) and isinstance(after, list):
            # Lists in the canonical form are sets of ids (features, add_on_to).
            added = [f"+{entry}" for entry in after if entry not in before]
            removed = [f"-{entry}" for entry in before if entry not in after]
            changes.append(f"{path}: {', '.join(added + removed)}")
        else:
            changes.append(f"{path}: {_show(before)} → {_show(after)}")
    return changes


def _entity_changes(
    kind: ChangeKind, section: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[CatalogChange]:
    changes: list[CatalogChange] = []
    for entity_id in sorted(set(old) | set(new)):
        path = f"{section}.{entity_id}"
        if entity_id not in new:
            changes.append(CatalogChange("removed", kind, path, f'{kind} "{entity_id}" removed'))
        elif entity_id not in old:
            changes.append(CatalogChange("added", kind, path, f'{kind} "{entity_id}" added'))
        elif old[entity_id] != new[entity_id]:
            details = tuple(_field_changes(old[entity_id], new[entity_id]))
            text = f'{kind} "{entity_id}" changed: {"; ".join(details)}'
            changes.append(CatalogChange("changed", kind, path, text, details))
    return changes


def _product_summary(product: Product) -> str:
    parts: list[str] = [product.customer_type]
    if product.line:
        parts.append(f"line {product.line}")
    if product.prices:
        parts.append(f"prices {', '.join(product.prices)}")
    return ", ".join(parts)


def diff_catalogs(old: Catalog, new: Catalog) -> list[CatalogChange]:
    """Every added, removed and changed label, feature, item, line, product, price, coupon
    and promotion code.

    Prices are reported on their own (a changed amount is a new Stripe price), and only for
    products present in both catalogs: an added or removed product carries its prices.
    """
    changes: list[CatalogChange] = []
    if old.version_label != new.version_label:
        text = f"version_label: {_show(old.version_label)} → {_show(new.version_label)}"
        changes.append(CatalogChange("changed", "catalog", "version_label", text, (text,)))
    old_dict, new_dict = old.to_dict(), new.to_dict()
    changes += _entity_changes("feature", "features", old_dict["features"], new_dict["features"])
    changes += _entity_changes("item", "items", old_dict["items"], new_dict["items"])
    changes += _entity_changes("line", "lines", old_dict["lines"], new_dict["lines"])

    for product_id in sorted(set(old.products) | set(new.products)):
        path = f"products.{product_id}"
        before, after = old.products.get(product_id), new.products.get(product_id)
        if after is None:
            changes.append(
                CatalogChange("removed", "product", path, f'product "{product_id}" removed')
            )
            continue
        if before is None:
            text = f'product "{product_id}" added ({_product_summary(after)})'
            changes.append(CatalogChange("added", "product", path, text))
            continue
        before_body = {k: v for k, v in before.to_dict().items() if k != "prices"}
        after_body = {k: v for k, v in after.to_dict().items() if k != "prices"}
        if before_body != after_body:
            details = tuple(_field_changes(before_body, after_body))
            text = f'product "{product_id}" changed: {"; ".join(details)}'
            changes.append(CatalogChange("changed", "product", path, text, details))
        for change in _entity_changes(
            "price",
            f"{path}.prices",
            {k: v.to_dict() for k, v in before.prices.items()},
            {k: v.to_dict() for k, v in after.prices.items()},
        ):
            # Name prices by product too: "monthly" alone is ambiguous across products.
            text = change.text.replace('price "', f'price "{product_id}.', 1)
            changes.append(CatalogChange(change.action, "price", change.path, text, change.details))
    for kind, section in (("coupon", "coupons"), ("promotion_code", "promotion_codes")):
        changes += _entity_changes(
            kind,  # type: ignore[arg-type]
            section,
            old_dict.get(section, {}),
            new_dict.get(section, {}),
        )
    return changes
