"""The checkout request body: the purchase (``schemas.CheckoutPurchaseIn``) and its
discount."""

from __future__ import annotations

from pydantic import Field

from plangate.api.schemas import Bool, CheckoutPurchaseIn


class CheckoutSessionIn(CheckoutPurchaseIn):
    promotion_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="a promotion code of the catalog (compared without case), applied to the "
        "checkout; 400 promotion_code_unknown when the catalog has no such active code",
    )
    allow_promotion_codes: Bool = Field(
        default=False,
        description="show Stripe's promotion code field on the checkout page instead; not "
        "with promotion_code",
    )
