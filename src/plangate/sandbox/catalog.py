"""Customers and products."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from .router import PAGE, ApiRequest, Router
from .search import search_result
from .tax_ids import add_tax_id, check_customer_tax, set_tax_exempt
from .wire import (
    Obj,
    Params,
    apply_metadata,
    get_bool,
    get_dict,
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
_CUSTOMER_FIELDS = ("address", "description", "email", "invoice_settings.default_payment_method",
                    "metadata", "name", "phone", "preferred_locales", "tax_exempt")
_PRODUCT_FIELDS = ("active", "description", "images", "marketing_features.name", "metadata", "name",
                   "shippable", "statement_descriptor", "tax_code", "unit_label", "url")
_DEFAULT_PRICE_FIELDS = tuple(f"default_price_data.{k}" for k in (
    "currency", "metadata", "recurring.interval", "recurring.interval_count", "tax_behavior",
    "unit_amount", "unit_amount_decimal"))



# --- customers -----------------------------------------------------------------------------------


def _address(value: Any) -> Obj | None:
    if not isinstance(value, dict):
        return None
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {k: value.get(k) or None for k in keys}


def _set_customer_fields(sb: Sandbox, cus: Obj, p: Params) -> None:
    for key in ("email", "name", "description", "phone"):
        if key in p:
            cus[key] = get_str(p, key)
    if "address" in p:
        cus["address"] = _address(p["address"])
    if "preferred_locales" in p:
        cus["preferred_locales"] = [str(x) for x in get_list(p, "preferred_locales")]
    settings = get_dict(p, "invoice_settings")
    if "default_payment_method" in settings:
        pm_id = get_str(settings, "default_payment_method",
                        param="invoice_settings[default_payment_method]")
        if pm_id is not None:
            from .payments import resolve_payment_method

            pm = resolve_payment_method(sb, pm_id, "invoice_settings[default_payment_method]")
            if pm.get("customer") != cus["id"]:
                raise invalid(
                    f"The customer does not have a payment method with the ID {pm_id}. The "
                    "payment method must be attached to the customer.",
                    "invoice_settings[default_payment_method]",
                )
            pm_id = pm["id"]
        cus["invoice_settings"]["default_payment_method"] = pm_id
    set_tax_exempt(cus, p)
    apply_metadata(cus, p)


@router.post("/v1/customers", "CustomerCreateParams",
              (*_CUSTOMER_FIELDS, "payment_method", "tax_id_data", "test_clock"))
def create_customer(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    clock_id = get_str(p, "test_clock")
    if clock_id is not None:
        sb.get("test_helpers.test_clock", clock_id, "test clock", "test_clock")
    tax_ids = check_customer_tax(p)
    cus: Obj = {
        "id": new_id("cus", 14), "object": "customer", "address": None, "balance": 0,
        "created": sb.now_on(clock_id), "currency": None, "default_source": None,
        "delinquent": False, "description": None, "discount": None, "email": None,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": {}, "name": None, "next_invoice_sequence": 1,
        "phone": None, "preferred_locales": [], "shipping": None, "tax_exempt": "none",
        "test_clock": clock_id,
    }
    sb.store.put(cus)
    pm_id = get_str(p, "payment_method")
    _set_customer_fields(sb, cus, {k: v for k, v in p.items() if k != "invoice_settings"})
    settings = dict(get_dict(p, "invoice_settings"))
    if pm_id is not None:
        from .payments import attach_payment_method

        attached = attach_payment_method(sb, pm_id, cus, "payment_method", announce=False)
        # `payment_method=pm_card_visa` with the same default means the attached copy.
        if settings.get("default_payment_method") == pm_id:
            settings["default_payment_method"] = attached["id"]
    if settings:
        _set_customer_fields(sb, cus, {"invoice_settings": settings})
    sb.emit("customer.created", cus)
    for type_, value in tax_ids:
        add_tax_id(sb, cus, type_, value)
    if pm_id is not None:
        sb.emit("payment_method.attached", attached)  # after the customer, as Stripe does
    return cus


@router.get("/v1/customers/search", "CustomerSearchParams", ("query", "limit", "page"))
def search_customers(sb: Sandbox, req: ApiRequest) -> Obj:
    return search_result(sb.store.all("customer"), req.params, "/v1/customers/search")


@router.get("/v1/customers/{id}", "CustomerRetrieveParams")
def retrieve_customer(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    cus = sb.store.get("customer", id)
    if cus is None:
        sb.get("customer", id)
    assert cus is not None
    return cus  # a deleted customer is answered as its `{id, object, deleted}` stub


@router.post("/v1/customers/{id}", "CustomerUpdateParams", _CUSTOMER_FIELDS)
def update_customer(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    cus = sb.get("customer", id)
    before = sb.snapshot(cus)
    _set_customer_fields(sb, cus, req.params)
    sb.store.put(cus)
    sb.emit("customer.updated", cus, before)
    return cus


@router.delete("/v1/customers/{id}", "CustomerDeleteParams")
def delete_customer(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    cus = sb.get("customer", id)
    from .subscriptions import cancel_subscription

    for sub in sb.store.all("subscription"):
        if sub["customer"] == id and sub["status"] not in ("canceled", "incomplete_expired"):
            cancel_subscription(sb, sub, "cancellation_requested")
    sb.emit("customer.deleted", cus)
    stub = {"id": id, "object": "customer", "deleted": True, "created": cus["created"],
            "_seq": cus["_seq"]}
    sb.store.put(stub)
    return stub


@router.get("/v1/customers", "CustomerListParams", (*PAGE, "created", "email", "test_clock"))
def list_customers(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    email = get_str(p, "email")
    clock = get_str(p, "test_clock")
    items = [
        c for c in sb.store.all("customer")
        if not c.get("deleted") and match_created(c, p)
        and (email is None or c["email"] == email)
        and (clock is None or c["test_clock"] == clock)
    ]
    return paginate(items, p, "/v1/customers")


# --- products ------------------------------------------------------------------------------------


def _set_product_fields(prod: Obj, p: Params) -> None:
    for key in ("name", "description", "statement_descriptor", "tax_code", "unit_label", "url"):
        if key in p:
            prod[key] = get_str(p, key)
    if "active" in p:
        prod["active"] = bool(get_bool(p, "active"))
    if "shippable" in p:
        prod["shippable"] = get_bool(p, "shippable")
    if "images" in p:
        prod["images"] = [str(x) for x in get_list(p, "images")]
    if "marketing_features" in p:
        prod["marketing_features"] = [
            {"name": f.get("name")} for f in get_list(p, "marketing_features")
            if isinstance(f, dict)
        ]
    if "name" in p and not prod["name"]:
        raise invalid("You must supply a name for the product.", "name")
    apply_metadata(prod, p)


def new_product(sb: Sandbox, p: Params, param_prefix: str = "") -> Obj:
    name = get_str(p, "name", required=True, param=f"{param_prefix}name")
    id_ = get_str(p, "id") or new_id("prod", 14)
    if sb.store.get("product", id_) is not None:
        raise invalid(f"Product already exists: {id_}", "id", code="resource_already_exists")
    now = sb.real_now()
    prod: Obj = {
        "id": id_, "object": "product", "active": True, "created": now, "default_price": None,
        "description": None, "images": [], "livemode": False, "marketing_features": [],
        "metadata": {}, "name": name, "package_dimensions": None, "shippable": None,
        "statement_descriptor": None, "tax_code": None, "type": "service",
        "unit_label": None, "updated": now, "url": None,
    }
    _set_product_fields(prod, p)
    sb.store.put(prod)
    sb.emit("product.created", prod)
    return prod


@router.post("/v1/products", "ProductCreateParams",
              (*_PRODUCT_FIELDS, "id", *_DEFAULT_PRICE_FIELDS))
def create_product(sb: Sandbox, req: ApiRequest) -> Obj:
    prod = new_product(sb, {k: v for k, v in req.params.items() if k != "default_price_data"})
    data = get_dict(req.params, "default_price_data")
    if data:
        from .prices import new_price

        price = new_price(sb, {**data, "product": prod["id"]}, "default_price_data[")
        before = sb.snapshot(prod)
        prod["default_price"] = price["id"]
        sb.emit("product.updated", prod, before)
    return prod


@router.get("/v1/products/{id}", "ProductRetrieveParams")
def retrieve_product(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("product", id)


@router.post("/v1/products/{id}", "ProductUpdateParams", (*_PRODUCT_FIELDS, "default_price"))
def update_product(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    prod = sb.get("product", id)
    before = sb.snapshot(prod)
    _set_product_fields(prod, req.params)
    if "default_price" in req.params:
        price_id = get_str(req.params, "default_price")
        if price_id is not None:
            price = sb.get("price", price_id, param="default_price")
            if price["product"] != id:
                raise invalid("The default price must belong to this product.", "default_price")
        prod["default_price"] = price_id
    prod["updated"] = sb.real_now()
    sb.store.put(prod)
    sb.emit("product.updated", prod, before)
    return prod


@router.delete("/v1/products/{id}", "ProductDeleteParams")
def delete_product(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    prod = sb.get("product", id)
    if any(pr["product"] == id for pr in sb.store.all("price")):
        raise invalid(
            "This product cannot be deleted because it has one or more user-created prices.",
            "id",
        )
    sb.emit("product.deleted", prod)
    sb.store.remove("product", id)
    return {"id": id, "object": "product", "deleted": True}


@router.get("/v1/products", "ProductListParams", (*PAGE, "active", "created", "ids"))
def list_products(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    active = get_bool(p, "active")
    ids = set(get_list(p, "ids"))
    items = [
        x for x in sb.store.all("product")
        if (active is None or x["active"] == active) and (not ids or x["id"] in ids)
        and match_created(x, p)
    ]
    return paginate(items, p, "/v1/products")
