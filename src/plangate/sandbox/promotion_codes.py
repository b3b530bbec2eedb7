"""Promotion codes: customer-facing codes for a coupon, with their own limits.

Objects, validation and events are Stripe's; redeeming a code (checkout's promotion-code
field, `discounts[][promotion_code]`) is `discounts`' work.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING

from .coupons import is_valid
from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    Params,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_int,
    get_str,
    invalid,
    match_created,
    missing_param,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()


def _coupon(sb: Sandbox, p: Params) -> Obj:
    promotion = get_dict(p, "promotion")
    if not promotion:
        raise missing_param("promotion")
    get_enum(promotion, "type", ("coupon",), required=True, param="promotion[type]")
    coupon_id = get_str(promotion, "coupon", required=True, param="promotion[coupon]") or ""
    coupon = sb.get("coupon", coupon_id, param="promotion[coupon]")
    if not is_valid(sb, coupon):
        raise invalid(f"Coupon {coupon_id} is no longer valid.", "promotion[coupon]")
    return coupon


def _code(sb: Sandbox, p: Params) -> str:
    code = get_str(p, "code")
    if code is None:
        alphabet = string.ascii_uppercase + string.digits
        return "".join(secrets.choice(alphabet) for _ in range(8))
    if any(pc["code"].lower() == code.lower() and pc["active"]
           for pc in sb.store.all("promotion_code")):
        raise invalid(f"An active promotion code with `code: {code}` already exists.", "code",
                      code="resource_already_exists")
    return code


def _restrictions(p: Params) -> Obj:
    given = get_dict(p, "restrictions")
    minimum = get_int(given, "minimum_amount", param="restrictions[minimum_amount]",
                      minimum=1)
    currency = get_str(given, "minimum_amount_currency",
                       param="restrictions[minimum_amount_currency]")
    if (minimum is None) != (currency is None):
        raise invalid("minimum_amount and minimum_amount_currency must be set together.",
                      "restrictions[minimum_amount_currency]" if currency is None
                      else "restrictions[minimum_amount]", code="parameter_missing")
    return {"first_time_transaction": bool(get_bool(
                given, "first_time_transaction", param="restrictions[first_time_transaction]")),
            "minimum_amount": minimum,
            "minimum_amount_currency": currency.lower() if currency else None}


@router.post("/v1/promotion_codes", "PromotionCodeCreateParams",
             ("active", "code", "customer", "expires_at", "max_redemptions", "metadata",
              "promotion.coupon", "promotion.type", "restrictions.first_time_transaction",
              "restrictions.minimum_amount", "restrictions.minimum_amount_currency"))
def create_promotion_code(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    coupon = _coupon(sb, p)
    customer = get_str(p, "customer")
    if customer is not None:
        sb.get("customer", customer, param="customer")
    now = sb.real_now()
    expires_at = get_int(p, "expires_at")
    if expires_at is not None and expires_at <= now:
        raise invalid("expires_at must be in the future.", "expires_at")
    if expires_at is not None and coupon["redeem_by"] is not None \
            and expires_at > coupon["redeem_by"]:
        raise invalid("The promotion code's expires_at may not be after the coupon's "
                      "redeem_by.", "expires_at")
    active = get_bool(p, "active")
    promo: Obj = {
        "id": new_id("promo"), "object": "promotion_code",
        "active": True if active is None else active, "code": _code(sb, p), "created": now,
        "customer": customer, "customer_account": None, "expires_at": expires_at,
        "livemode": False, "max_redemptions": get_int(p, "max_redemptions", minimum=1),
        "metadata": {}, "promotion": {"coupon": coupon["id"], "type": "coupon"},
        "restrictions": _restrictions(p), "times_redeemed": 0,
    }
    apply_metadata(promo, p)
    sb.store.put(promo)
    sb.emit("promotion_code.created", promo)
    return promo


@router.get("/v1/promotion_codes/{id}", "PromotionCodeRetrieveParams")
def retrieve_promotion_code(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("promotion_code", id)


@router.post("/v1/promotion_codes/{id}", "PromotionCodeUpdateParams", ("active", "metadata"))
def update_promotion_code(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    promo = sb.get("promotion_code", id)
    before = sb.snapshot(promo)
    if "active" in req.params:
        promo["active"] = bool(get_bool(req.params, "active"))
    apply_metadata(promo, req.params)
    sb.store.put(promo)
    sb.emit("promotion_code.updated", promo, before)
    return promo


@router.get("/v1/promotion_codes", "PromotionCodeListParams",
            (*PAGE, "active", "code", "coupon", "created", "customer"))
def list_promotion_codes(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    active = get_bool(p, "active")
    code, coupon, customer = (get_str(p, k) for k in ("code", "coupon", "customer"))
    items = [
        x for x in sb.store.all("promotion_code")
        if (active is None or x["active"] == active)
        and (code is None or x["code"].lower() == code.lower())  # Stripe ignores case here
        and (coupon is None or x["promotion"]["coupon"] == coupon)
        and (customer is None or x["customer"] == customer) and match_created(x, p)
    ]
    return paginate(items, p, "/v1/promotion_codes")
