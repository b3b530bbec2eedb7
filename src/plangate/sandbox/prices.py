"""Prices, and the legacy `plan` view of them that subscription items still embed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalog import new_product
from .router import PAGE, ApiRequest, Router
from .tiers import apply_scheme, usage_type
from .wire import (
    Obj,
    Params,
    StripeError,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_int,
    get_list,
    get_str,
    invalid,
    match_created,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()

INTERVALS = ("day", "week", "month", "year")


def _claim_lookup_key(sb: Sandbox, price: Obj, key: str | None, transfer: bool) -> None:
    if key is None:
        price["lookup_key"] = None
        return
    for other in sb.store.all("price"):
        if other["id"] != price["id"] and other["lookup_key"] == key:
            if not transfer:
                raise invalid(
                    f"A price (`{other['id']}`) already uses that lookup key.", "lookup_key"
                )
            before = sb.snapshot(other)
            other["lookup_key"] = None
            sb.store.put(other)
            sb.emit("price.updated", other, before)
    price["lookup_key"] = key


def new_price(sb: Sandbox, p: Params, prefix: str = "") -> Obj:
    def label(name: str) -> str:
        return f"{prefix}{name}]" if prefix else name

    currency = get_str(p, "currency", required=True, param=label("currency"))
    assert currency is not None
    unit_amount = get_int(p, "unit_amount", param=label("unit_amount"), minimum=0)
    if unit_amount is None and get_str(p, "unit_amount_decimal") is not None:
        decimal = get_str(p, "unit_amount_decimal") or ""
        if not decimal.isdigit():
            raise invalid("The sandbox supports whole-unit `unit_amount_decimal` only.",
                          label("unit_amount_decimal"))
        unit_amount = int(decimal)
    if unit_amount is None and get_str(p, "billing_scheme") != "tiered":
        raise missing_amount(label("unit_amount"))
    product_id = get_str(p, "product")
    if product_id is None:
        data = get_dict(p, "product_data")
        if not data:
            raise invalid("You must specify either `product` or `product_data` when creating "
                          "a price.", label("product"), code="parameter_missing")
        product_id = new_product(sb, data, "product_data[")["id"]
    else:
        sb.get("product", product_id, param=label("product"))
    recurring_in = get_dict(p, "recurring")
    recurring = None
    if recurring_in:
        interval = get_enum(recurring_in, "interval", INTERVALS, required=True,
                            param="recurring[interval]")
        count = get_int(recurring_in, "interval_count", minimum=1) or 1
        usage, meter = usage_type(sb, recurring_in)
        recurring = {
            "interval": interval, "interval_count": count, "meter": meter,
            "trial_period_days": get_int(recurring_in, "trial_period_days"),
            "usage_type": usage,
        }
    price: Obj = {
        "id": new_id("price"), "object": "price", "active": True, "billing_scheme": "per_unit",
        "created": sb.real_now(), "currency": currency.lower(), "custom_unit_amount": None,
        "livemode": False, "lookup_key": None, "metadata": {},
        "nickname": get_str(p, "nickname"), "product": product_id, "recurring": recurring,
        "tax_behavior": get_enum(p, "tax_behavior", ("exclusive", "inclusive", "unspecified"))
        or "unspecified",
        "tiers_mode": None, "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
    }
    apply_scheme(sb, price, p, prefix)
    if get_bool(p, "active") is False:
        price["active"] = False
    _claim_lookup_key(sb, price, get_str(p, "lookup_key"), bool(get_bool(p, "transfer_lookup_key")))
    apply_metadata(price, p)
    sb.store.put(price)
    sb.emit("price.created", price)
    return price


def missing_amount(param: str) -> StripeError:
    return invalid("You must pass either `unit_amount` or `unit_amount_decimal`.", param,
                   code="parameter_missing")


@router.post("/v1/prices", "PriceCreateParams",
              ("active", "currency", "lookup_key", "metadata", "nickname", "product",
              "product_data.id", "product_data.name", "product_data.metadata", "recurring.interval",
              "recurring.interval_count", "recurring.meter", "recurring.trial_period_days",
              "recurring.usage_type", "billing_scheme", "tiers", "tiers_mode", "tax_behavior",
              "transfer_lookup_key", "unit_amount", "unit_amount_decimal"))
def create_price(sb: Sandbox, req: ApiRequest) -> Obj:
    return new_price(sb, req.params)


@router.get("/v1/prices/{id}", "PriceRetrieveParams")
def retrieve_price(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("price", id)


@router.post("/v1/prices/{id}", "PriceUpdateParams",
              ("active", "lookup_key", "metadata", "nickname", "transfer_lookup_key"))
def update_price(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    price = sb.get("price", id)
    p = req.params
    before = sb.snapshot(price)
    if "active" in p:
        price["active"] = bool(get_bool(p, "active"))
    if "nickname" in p:
        price["nickname"] = get_str(p, "nickname")
    if "lookup_key" in p:
        _claim_lookup_key(sb, price, get_str(p, "lookup_key"),
                          bool(get_bool(p, "transfer_lookup_key")))
    apply_metadata(price, p)
    sb.store.put(price)
    sb.emit("price.updated", price, before)
    return price


@router.get("/v1/prices", "PriceListParams",
              (*PAGE, "active", "created", "currency", "lookup_keys", "product",
              "recurring.interval", "type"))
def list_prices(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    active = get_bool(p, "active")
    currency = get_str(p, "currency")
    product = get_str(p, "product")
    type_ = get_enum(p, "type", ("one_time", "recurring"))
    keys = set(get_list(p, "lookup_keys"))
    interval = get_str(get_dict(p, "recurring"), "interval")
    items = [
        x for x in sb.store.all("price")
        if (active is None or x["active"] == active)
        and (currency is None or x["currency"] == currency.lower())
        and (product is None or x["product"] == product)
        and (type_ is None or x["type"] == type_)
        and (not keys or x["lookup_key"] in keys)
        and (interval is None or (x["recurring"] or {}).get("interval") == interval)
        and match_created(x, p)
    ]
    return paginate(items, p, "/v1/prices")


def plan_of(price: Obj) -> Obj:
    """The legacy `plan` view of a recurring price, still embedded in subscription items."""
    rec = price["recurring"] or {}
    return {
        "id": price["id"], "object": "plan", "active": price["active"],
        "amount": price["unit_amount"], "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"], "created": price["created"],
        "currency": price["currency"], "interval": rec.get("interval"),
        "interval_count": rec.get("interval_count"), "livemode": False,
        "metadata": dict(price["metadata"]), "meter": rec.get("meter"),
        "nickname": price["nickname"], "product": price["product"],
        "tiers_mode": price["tiers_mode"], "transform_usage": None,
        "trial_period_days": rec.get("trial_period_days"),
        "usage_type": rec.get("usage_type", "licensed"),
    }
