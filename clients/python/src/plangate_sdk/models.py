"""What the SDK's methods return: the API's response models (:mod:`plangate_sdk.schemas`),
and the names the SDK documents for three of them."""

from __future__ import annotations

from plangate_sdk import schemas
from plangate_sdk.schemas import *  # noqa: F403 - this module re-exports the schemas
from plangate_sdk.schemas import CheckOut, EntitlementTokenOut, GrantOut

CheckResult = CheckOut
"""``check()``'s answer: ``allowed`` and what was checked (an item's balance as ``quantity``)."""

GrantResult = GrantOut
"""``grant()``'s answer: the new ownership and every product the customer now holds."""

EntitlementToken = EntitlementTokenOut
"""``entitlement_token()``'s answer: the signed JWT, its expiry and whose it is."""

__all__ = [*schemas.__all__, "CheckResult", "EntitlementToken", "GrantResult"]
