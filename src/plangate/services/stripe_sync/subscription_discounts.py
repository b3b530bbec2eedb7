"""A subscription's recurring discounts, as the sync keeps them on its ownership for MRR net
of discounts (``domain.revenue.net_of_discounts``).

The subscription is fetched with ``discounts.source.coupon`` expanded. A ``forever`` coupon
runs for ever, a ``repeating`` one until its discount's ``end``; a ``once`` coupon takes
something off one invoice only, so it is not recurring revenue and is not kept. A discount
whose coupon Stripe no longer returns is left out (its terms cannot be told).
"""

from __future__ import annotations

from typing import Any

from plangate.gateways.base import StripeDict


def _coupon(discount: Any) -> StripeDict | None:
    if not isinstance(discount, dict):
        return None
    coupon = (discount.get("source") or {}).get("coupon")
    return coupon if isinstance(coupon, dict) else None


def recurring_discounts(subscription: StripeDict) -> list[dict[str, Any]] | None:
    """``[{percent_off, amount_off, currency, end}]`` in Stripe's order (``percent_off`` a
    decimal string, ``amount_off`` minor units, ``end`` unix seconds or None), or None when
    there are none."""
    kept: list[dict[str, Any]] = []
    for discount in subscription.get("discounts") or []:
        coupon = _coupon(discount)
        if coupon is None or coupon.get("duration") not in ("forever", "repeating"):
            continue
        percent = coupon.get("percent_off")
        amount = coupon.get("amount_off")
        if percent is None and amount is None:
            continue
        end = discount.get("end") if coupon.get("duration") == "repeating" else None
        kept.append(
            {
                "percent_off": None if percent is None else str(percent),
                "amount_off": None if amount is None else int(amount),
                "currency": str(coupon.get("currency") or "").lower() or None,
                "end": None if end is None else int(end),
            }
        )
    return kept or None
