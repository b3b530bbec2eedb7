"""What the SDK's methods return: the API's own response models, plus the few shapes the
server answers without a named schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from plangate.api.schemas import (
    BillingOut,
    CancellationOut,
    CancelledOut,
    CardOut,
    CatalogApplied,
    CatalogOut,
    CheckOut,
    CheckoutSessionCreated,
    CheckoutSessionOut,
    CustomerOut,
    CustomerSessionOut,
    CustomerType,
    EntitlementsOut,
    EntitlementTokenOut,
    InvoiceList,
    InvoiceOut,
    ItemBalanceOut,
    ItemChanged,
    ItemOut,
    MemberList,
    MemberOut,
    OwnedProduct,
    PlanChangeOut,
    PortalOut,
    ProductList,
    RefundOut,
    SeatsOut,
    SetupOut,
    TeamRole,
    TransactionList,
    TransactionOut,
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


# --- purchases and billing ------------------------------------------------------------------
# The server declares these next to their routes (plangate.api.routes.purchases / .billing),
# which the SDK may not import; they are mirrored here field for field
# (tests/sdk/test_sdk_billing.py keeps the two in step).


RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]


__all__ = [
    "BillingOut",
    "CancellationOut",
    "CancelledOut",
    "CardOut",
    "CatalogApplied",
    "CatalogOut",
    "CheckOut",
    "CheckResult",
    "CheckoutSessionCreated",
    "CheckoutSessionOut",
    "CustomerOut",
    "CustomerSessionOut",
    "CustomerType",
    "EntitlementToken",
    "EntitlementTokenOut",
    "EntitlementsOut",
    "GrantResult",
    "InvoiceList",
    "InvoiceOut",
    "ItemBalanceOut",
    "ItemChanged",
    "ItemOut",
    "MemberList",
    "MemberOut",
    "OwnedProduct",
    "PlanChangeOut",
    "PortalOut",
    "ProductList",
    "RefundOut",
    "RefundReason",
    "SeatsOut",
    "SetupOut",
    "TeamRole",
    "TransactionList",
    "TransactionOut",
]
