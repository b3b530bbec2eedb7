"""What the SDK's methods return: the API's own response models, plus the few shapes the
server answers without a named schema."""

from __future__ import annotations

from pydantic import BaseModel

from plangate.api.schemas import (
    CatalogApplied,
    CatalogOut,
    CheckOut,
    CustomerOut,
    CustomerType,
    EntitlementsOut,
    EntitlementTokenOut,
    ItemBalanceOut,
    ItemChanged,
    ItemOut,
    OwnedProduct,
    ProductList,
)

CheckResult = CheckOut
"""``check()``'s answer: ``allowed`` and what was checked (an item's balance as ``quantity``)."""


class GrantResult(BaseModel):
    """``POST {c}/products``: the new ownership and every product the customer now holds."""

    ownership_id: str
    product_id: str
    data: list[OwnedProduct]


EntitlementToken = EntitlementTokenOut
"""``entitlement_token()``'s answer: the signed JWT, its expiry and whose it is."""


__all__ = [
    "CatalogApplied",
    "CatalogOut",
    "CheckOut",
    "CheckResult",
    "CustomerOut",
    "CustomerType",
    "EntitlementToken",
    "EntitlementTokenOut",
    "EntitlementsOut",
    "GrantResult",
    "ItemBalanceOut",
    "ItemChanged",
    "ItemOut",
    "OwnedProduct",
    "ProductList",
]
