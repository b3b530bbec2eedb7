"""Discounts on a checkout: a promotion code the app names, or Stripe's code field.

A `promotion_code` must be one the catalog declares (compared without case, as Stripe does),
active there, and fit the purchase (an amount-off coupon in the checkout's currency, the
code's minimum amount reached); plangate refuses it with a stable code before Stripe is
asked. Stripe then checks what only it knows (redemptions used up, expired, a first purchase)
and its refusal comes back as 400 `promotion_code_not_applicable` with Stripe's reason.
`allow_promotion_codes` shows Stripe's own code field on the hosted page instead; the two
exclude each other, as at Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plangate.domain.catalog import Catalog, PromotionCode
from plangate.domain.money import format_money
from plangate.errors import Conflict, InvalidRequest
from plangate.gateways.base import Gateway, GatewayError


@dataclass(frozen=True)
class CheckoutDiscount:
    """What the checkout asks Stripe for: one promotion code, or the hosted code field."""

    promotion_code: PromotionCode | None = None
    allow_promotion_codes: bool = False


def resolve_discount(
    catalog: Catalog,
    promotion_code: str | None,
    allow_promotion_codes: bool,
    *,
    currency: str,
    subtotal: int,
) -> CheckoutDiscount:
    """The checkout's discount, or the error that refuses it (nothing is asked of Stripe)."""
    if promotion_code is not None and allow_promotion_codes:
        raise InvalidRequest(
            "promotion_code_conflict",
            "send promotion_code or allow_promotion_codes, not both: with "
            "allow_promotion_codes the customer types a code on Stripe's page",
            param="allow_promotion_codes",
        )
    if promotion_code is None:
        return CheckoutDiscount(allow_promotion_codes=allow_promotion_codes)
    promo = catalog.promotion_code(promotion_code)
    if promo is None or not promo.active:
        raise InvalidRequest(
            "promotion_code_unknown",
            f"no active promotion code {promotion_code!r}",
            param="promotion_code",
        )
    coupon = catalog.coupons[promo.coupon]
    if coupon.currency is not None and coupon.currency != currency:
        raise InvalidRequest(
            "promotion_code_not_applicable",
            f"promotion code {promo.code!r} takes {coupon.amount_off} "
            f"{coupon.currency.upper()} off; this checkout is in {currency.upper()}",
            param="promotion_code",
        )
    minimum = promo.minimum_amount_minor
    if minimum is not None and (promo.minimum_amount_currency != currency or subtotal < minimum):
        shown = format_money(minimum, str(promo.minimum_amount_currency))
        raise InvalidRequest(
            "promotion_code_not_applicable",
            f"promotion code {promo.code!r} needs a purchase of at least {shown}",
            param="promotion_code",
        )
    return CheckoutDiscount(promotion_code=promo)


def stripe_discount(gateway: Gateway, discount: CheckoutDiscount) -> dict[str, Any]:
    """The Checkout Session parameters for the discount, with Stripe's promotion code id."""
    if discount.allow_promotion_codes:
        return {"allow_promotion_codes": True}
    promo = discount.promotion_code
    if promo is None:
        return {}
    found = gateway.find_promotion_code(promo.code)
    if found is None:
        raise Conflict(
            "promotion_code_not_pushed",
            f"Stripe has no active promotion code {promo.code!r}: run `plangate catalog push` "
            "after applying the catalog",
            param="promotion_code",
        )
    return {"discounts": [{"promotion_code": str(found["id"])}]}


def refused_discount(exc: GatewayError, params: dict[str, Any]) -> InvalidRequest | None:
    """Stripe's refusal of the promotion code (used up, expired, not a first purchase) as
    a 400 of plangate's; None for any other refusal."""
    if "discounts" in params and (exc.param or "").startswith("discounts"):
        return InvalidRequest(
            "promotion_code_not_applicable",
            f"Stripe refused the promotion code: {exc}",
            param="promotion_code",
        )
    return None
