"""Coupons: percent or amount off, for once, some months or forever, with redemption limits.

The objects, their validation and their events are Stripe's; applying a coupon (discounts on
checkout sessions, subscriptions and invoices) is `discounts`' work.
"""

from __future__ import annotations

import secrets
import string
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    Params,
    apply_metadata,
    get_enum,
    get_int,
    get_str,
    invalid,
    match_created,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
DURATIONS = ("forever", "once", "repeating")


def _percent_off(p: Params) -> int | float | None:
    """Stripe's `percent_off` is a number with up to two decimals, above 0 and at most 100."""
    raw = get_str(p, "percent_off")
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {raw}", "percent_off") from None
    if not Decimal(0) < value <= Decimal(100) or value != value.quantize(Decimal("0.01")):
        raise invalid("Invalid percent_off: must be greater than 0 and at most 100, with at "
                      "most two decimals.", "percent_off")
    # On the wire it is a JSON number, as Stripe sends it; a whole percentage stays an int.
    return int(value) if value == value.to_integral_value() else float(value)


def _amounts(p: Params) -> tuple[int | float | None, int | None, str | None]:
    percent = _percent_off(p)
    amount = get_int(p, "amount_off", minimum=1)
    if (percent is None) == (amount is None):
        raise invalid("You must pass exactly one of percent_off or amount_off.",
                      "percent_off" if percent is None else "amount_off",
                      code="parameter_missing" if percent is None else "parameter_invalid")
    currency = get_str(p, "currency")
    if amount is not None and currency is None:
        raise invalid("You must specify a currency when creating an amount_off coupon.",
                      "currency", code="parameter_missing")
    return percent, amount, currency.lower() if amount is not None and currency else None


def _duration(p: Params) -> tuple[str, int | None]:
    duration = get_enum(p, "duration", DURATIONS) or "once"
    months = get_int(p, "duration_in_months", minimum=1)
    if duration == "repeating" and months is None:
        raise invalid("You must specify duration_in_months when duration is repeating.",
                      "duration_in_months", code="parameter_missing")
    if duration != "repeating" and months is not None:
        raise invalid("duration_in_months may only be set when duration is repeating.",
                      "duration_in_months")
    return duration, months


def is_valid(sb: Sandbox, coupon: Obj) -> bool:
    """Whether the coupon can still be redeemed: before `redeem_by`, under `max_redemptions`."""
    if coupon["redeem_by"] is not None and sb.real_now() >= coupon["redeem_by"]:
        return False
    limit = coupon["max_redemptions"]
    return limit is None or coupon["times_redeemed"] < limit


def _id(sb: Sandbox, p: Params) -> str:
    given = get_str(p, "id")
    if given is None:
        alphabet = string.ascii_uppercase + string.digits
        return "".join(secrets.choice(alphabet) for _ in range(8))
    existing = sb.store.get("coupon", given)
    if existing is not None and not existing.get("_deleted"):
        raise invalid("Coupon already exists.", "id", code="resource_already_exists")
    return given


@router.post("/v1/coupons", "CouponCreateParams",
             ("amount_off", "currency", "duration", "duration_in_months", "id",
              "max_redemptions", "metadata", "name", "percent_off", "redeem_by"))
def create_coupon(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    percent, amount, currency = _amounts(p)
    duration, months = _duration(p)
    now = sb.real_now()
    redeem_by = get_int(p, "redeem_by")
    if redeem_by is not None and redeem_by <= now:
        raise invalid("redeem_by must be in the future.", "redeem_by")
    coupon: Obj = {
        "id": _id(sb, p), "object": "coupon", "amount_off": amount, "created": now,
        "currency": currency, "duration": duration, "duration_in_months": months,
        "livemode": False, "max_redemptions": get_int(p, "max_redemptions", minimum=1),
        "metadata": {}, "name": get_str(p, "name"), "percent_off": percent,
        "redeem_by": redeem_by, "times_redeemed": 0, "valid": True,
    }
    apply_metadata(coupon, p)
    sb.store.put(coupon)
    sb.emit("coupon.created", coupon)
    return coupon


def _current(sb: Sandbox, id_: str) -> Obj:
    coupon = sb.get("coupon", id_)
    coupon["valid"] = is_valid(sb, coupon)
    return coupon


@router.get("/v1/coupons/{id}", "CouponRetrieveParams")
def retrieve_coupon(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return _current(sb, id)


@router.post("/v1/coupons/{id}", "CouponUpdateParams", ("metadata", "name"))
def update_coupon(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    coupon = _current(sb, id)
    before = sb.snapshot(coupon)
    if "name" in req.params:
        coupon["name"] = get_str(req.params, "name")
    apply_metadata(coupon, req.params)
    sb.store.put(coupon)
    sb.emit("coupon.updated", coupon, before)
    return coupon


@router.delete("/v1/coupons/{id}", "CouponDeleteParams")
def delete_coupon(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    coupon = _current(sb, id)
    sb.emit("coupon.deleted", coupon)
    # Kept out of sight rather than removed: discounts name it, and expanding
    # `discounts.source.coupon` still shows the terms they were redeemed on.
    coupon["_deleted"] = True
    sb.store.put(coupon)
    return {"id": id, "object": "coupon", "deleted": True}


@router.get("/v1/coupons", "CouponListParams", (*PAGE, "created"))
def list_coupons(sb: Sandbox, req: ApiRequest) -> Obj:
    items = [_current(sb, c["id"]) for c in sb.store.all("coupon")
             if not c.get("_deleted") and match_created(c, req.params)]
    return paginate(items, req.params, "/v1/coupons")
