"""Turning `plangate.toml` (or its dict form) into a Catalog, reporting every problem at once.

Validation runs in three passes so that one mistake produces one problem, not a cascade:
1. shape: each section and product is read field by field; a bad field is reported and left
   out of the draft, the rest of the product is still read;
2. policy: per-product rules (a default product has no prices, a trial needs a recurring
   price...), skipped when loading an old ownership snapshot;
3. references: features, items, lines and add-on targets must exist and agree on the
   customer type. Checks that depend on a field that was already wrong are skipped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any, cast

from plangate.domain.catalog.discounts_parse import read_coupons, read_promotion_codes
from plangate.domain.catalog.meters import read_metered_prices, read_meters
from plangate.domain.catalog.model import (
    Catalog,
    CatalogInvalid,
    CustomerType,
    Feature,
    FrozenMap,
    Item,
    Line,
    Problem,
    Product,
)
from plangate.domain.catalog.products import (
    CUSTOMER_TYPES,
    ProductDraft,
    check_product_policy,
    check_product_references,
    read_product,
)
from plangate.domain.catalog.reader import Reader, join_path

__all__ = ["load_product_snapshot", "parse_catalog", "parse_product_definition"]

_TOP_FIELDS = (
    "version_label", "features", "items", "lines", "products", "coupons", "promotion_codes",
    "meters", "metered_prices",
)
_NAMED_FIELDS = ("name", "description")
_LINE_FIELDS = ("name", "description", "customer_type")


def _read_named(
    r: Reader, data: Mapping[str, Any], section: str, fields: tuple[str, ...]
) -> dict[str, tuple[Mapping[str, Any] | None, str]]:
    """A section of id → table, with each entry's path.

    An entry whose body is not a table maps to None: it is reported, but its id still counts
    as declared so that products naming it don't get a second, misleading problem.
    """
    entries: dict[str, tuple[Mapping[str, Any] | None, str]] = {}
    for entry_id, value in (r.table(data.get(section, {}), section) or {}).items():
        path = join_path(section, entry_id)
        if not r.id(entry_id, path, section.rstrip("s")):
            continue
        body = r.table(value, path)
        if body is not None:
            r.fields(body, fields, path)
        entries[entry_id] = (body, path)
    return entries


def _load_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The message carries "(at line L, column C)".
        raise CatalogInvalid([Problem("", "toml_syntax", f"invalid TOML: {error}")]) from None


def parse_catalog(source: str | Mapping[str, Any]) -> Catalog:
    """Validate `plangate.toml` text, or the equivalent dict (parsed JSON), into a Catalog.

    Raises CatalogInvalid listing every problem found.
    """
    if isinstance(source, str):
        data: Mapping[str, Any] = _load_toml(source)
    elif isinstance(source, Mapping):
        data = source
    else:
        raise TypeError(f"a catalog is TOML text or a mapping, not {type(source).__name__}")
    r = Reader()
    r.fields(data, _TOP_FIELDS, "")
    label = r.string(data, "version_label", "")

    features: dict[str, Feature] = {}
    feature_entries = _read_named(r, data, "features", _NAMED_FIELDS)
    for fid, (body, path) in feature_entries.items():
        if body is not None:
            name, description = r.string(body, "name", path), r.string(body, "description", path)
            features[fid] = Feature(fid, name or fid, description)
    items: dict[str, Item] = {}
    item_entries = _read_named(r, data, "items", _NAMED_FIELDS)
    for iid, (body, path) in item_entries.items():
        if body is not None:
            name, description = r.string(body, "name", path), r.string(body, "description", path)
            items[iid] = Item(iid, name or iid, description)
    lines: dict[str, Line] = {}
    line_types: dict[str, CustomerType | None] = {}
    for lid, (body, path) in _read_named(r, data, "lines", _LINE_FIELDS).items():
        line_types[lid] = None
        if body is None:
            continue
        if "customer_type" not in body:
            r.add(join_path(path, "customer_type"), "field_required", "customer_type is required")
        customer_type = cast(
            CustomerType | None, r.choice(body, "customer_type", path, CUSTOMER_TYPES)
        )
        name, description = r.string(body, "name", path), r.string(body, "description", path)
        line_types[lid] = customer_type
        if customer_type is not None:
            lines[lid] = Line(lid, name or lid, customer_type, description)

    drafts: list[ProductDraft] = []
    known: dict[str, tuple[CustomerType | None, bool]] = {}
    for pid, value in (r.table(data.get("products", {}), "products") or {}).items():
        path = join_path("products", pid)
        if not r.id(pid, path, "product"):
            continue
        known[pid] = (None, False)  # declared, even if its body is unreadable
        if draft := read_product(r, pid, value, path):
            drafts.append(draft)
            known[pid] = (draft.customer_type, bool(draft.add_on_to))
    for draft in drafts:
        check_product_policy(r, draft)
        check_product_references(r, draft, feature_entries, item_entries, line_types, known)
    for line_id in line_types:
        defaults = [d.id for d in drafts if d.default and d.line == line_id]
        if len(defaults) > 1:
            r.add(
                join_path("lines", line_id),
                "multiple_default_products",
                f"line {line_id!r} has {len(defaults)} default products ({', '.join(defaults)}); "
                "at most one",
            )

    coupons = read_coupons(r, data)
    declared = set((r.table(data.get("coupons", {}), "coupons") or {}) if isinstance(
        data.get("coupons", {}), Mapping) else ())
    promotion_codes = read_promotion_codes(r, data, declared, coupons)
    meters = read_meters(r, data, items)
    # Metered prices name products: checked once the products themselves are sound.
    metered_prices = {} if r.problems else read_metered_prices(
        r, data, meters, {d.id: d.build() for d in drafts})

    if r.problems:
        raise CatalogInvalid(r.problems)
    return Catalog(
        features=FrozenMap(features),
        items=FrozenMap(items),
        lines=FrozenMap(lines),
        products=FrozenMap((d.id, d.build()) for d in drafts),
        version_label=label,
        coupons=FrozenMap(coupons),
        promotion_codes=FrozenMap(promotion_codes),
        meters=FrozenMap(meters),
        metered_prices=FrozenMap(metered_prices),
    )


def parse_product_definition(
    definition: Mapping[str, Any], catalog: Catalog, *, product_id: str
) -> Product:
    """Validate an inline product (granted through the server API without being in the
    catalog) against `catalog`. Same rules as a catalog product, but never in a line, never
    default and never stackable. Problems are reported under `product.`.
    """
    r = Reader()
    path = "product"
    if r.id(product_id, join_path(path, "id"), "product") and product_id in catalog.products:
        r.add(
            join_path(path, "id"),
            "product_id_conflict",
            f"{product_id!r} is a catalog product; an inline product needs its own id",
        )
    draft = read_product(r, product_id, definition, path)
    if draft is not None:
        for key, present in (
            ("line", draft.line is not None),
            ("default", draft.default),
            ("stackable", draft.stackable),
        ):
            if present:
                r.add(
                    join_path(path, key), "field_not_allowed", f"an inline product can't set {key}"
                )
        draft.line, draft.default, draft.stackable = None, False, False
        check_product_policy(r, draft)
        known = {p.id: (p.customer_type, p.is_add_on) for p in catalog.products.values()}
        line_types = {line.id: line.customer_type for line in catalog.lines.values()}
        check_product_references(r, draft, catalog.features, catalog.items, line_types, known)
    if r.problems or draft is None:
        raise CatalogInvalid(r.problems)
    return draft.build()


def load_product_snapshot(data: Mapping[str, Any]) -> Product:
    """`Product.from_dict`: the shape of a stored snapshot, without policy or references."""
    r = Reader()
    if not isinstance(data, Mapping):
        raise CatalogInvalid([Problem("product", "field_type", "a product snapshot is a table")])
    body = dict(data)
    product_id = body.pop("id", None)
    if product_id is None:
        r.add("product.id", "field_required", "a product snapshot needs its id")
    elif r.id(product_id, "product.id", "product"):
        draft = read_product(r, product_id, body, "product")
        if not r.problems and draft is not None:
            return draft.build()
    raise CatalogInvalid(r.problems)
