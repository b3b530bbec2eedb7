"""The catalog: what an app sells and what each product grants (docs/catalog.md).

`parse_catalog` reads `plangate.toml` text or its dict form into an immutable `Catalog`,
raising `CatalogInvalid` with every `Problem` found.
"""

from plangate.domain.catalog.diff import CatalogChange, diff_catalogs
from plangate.domain.catalog.discounts import Coupon, PromotionCode
from plangate.domain.catalog.meters import Meter, MeteredPrice, Tier, meter_event_name
from plangate.domain.catalog.model import (
    Catalog,
    CatalogInvalid,
    CustomerType,
    ExpiresPolicy,
    Feature,
    FrozenMap,
    Item,
    ItemGrant,
    Line,
    Price,
    Problem,
    Product,
)
from plangate.domain.catalog.parse import parse_catalog, parse_product_definition

__all__ = [
    "Catalog",
    "CatalogChange",
    "CatalogInvalid",
    "Coupon",
    "CustomerType",
    "ExpiresPolicy",
    "Feature",
    "FrozenMap",
    "Item",
    "ItemGrant",
    "Line",
    "Meter",
    "MeteredPrice",
    "Price",
    "Problem",
    "Product",
    "PromotionCode",
    "Tier",
    "diff_catalogs",
    "meter_event_name",
    "parse_catalog",
    "parse_product_definition",
]
