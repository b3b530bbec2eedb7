"""Billing portal configurations: what a portal session lets a customer do.

A configuration lists, under `features.subscription_update.products`, the only products and
prices a subscription may be switched to in the portal; a subscription whose current product
is not listed cannot be updated there at all. `allowed_prices` is that rule; the portal page
and portal session creation both go through it, so what the page offers and what it accepts
are the same set.

Without a `configuration`, a session uses the account's default configuration. The sandbox
creates that one on first use with subscription updates disabled (a new Stripe account's
portal does not offer plan switches until they are configured): cancel at period end,
update the card and see invoices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    Params,
    StripeError,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_list,
    get_str,
    invalid,
    missing_param,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
_CONFIGURATION_FIELDS = (
    "business_profile", "default_return_url", "features.customer_update",
    "features.invoice_history", "features.payment_method_update", "features.subscription_cancel",
    "features.subscription_update", "login_page.enabled", "metadata", "name")
KIND = "billing_portal.configuration"
SUBSCRIPTION_UPDATES = ("price", "quantity", "promotion_code")
CUSTOMER_UPDATES = ("address", "email", "name", "phone", "shipping", "tax_id")
PRORATIONS = ("none", "create_prorations", "always_invoice")
CANCEL_MODES = ("at_period_end", "immediately")
CANCEL_REASONS = ("customer_service", "low_quality", "missing_features", "other",
                  "switched_service", "too_complex", "too_expensive", "unused")
MAX_PRODUCTS = 10  # Stripe's limit on `features.subscription_update.products`
_FEATURES = ("customer_update", "invoice_history", "payment_method_update",
             "subscription_cancel", "subscription_update")


def _blank(sb: Sandbox, is_default: bool) -> Obj:
    now = sb.real_now()
    return {
        "id": new_id("bpc"), "object": KIND, "active": True, "application": None,
        "business_profile": {"headline": None, "privacy_policy_url": None,
                             "terms_of_service_url": None},
        "created": now, "default_return_url": None,
        "features": {
            "customer_update": {"allowed_updates": [], "enabled": False},
            "invoice_history": {"enabled": False},
            "payment_method_update": {"enabled": False, "payment_method_configuration": None},
            "subscription_cancel": {
                "cancellation_reason": {"enabled": False, "options": []},
                "enabled": False, "mode": "at_period_end", "proration_behavior": "none"},
            "subscription_update": {
                "billing_cycle_anchor": None, "default_allowed_updates": [],
                "enabled": False, "products": [], "proration_behavior": "none",
                "schedule_at_period_end": {"conditions": []},
                "trial_update_behavior": "end_trial"},
        },
        "is_default": is_default, "livemode": False,
        "login_page": {"enabled": False, "url": None}, "metadata": {}, "name": None,
        "updated": now,
    }


def default_configuration(sb: Sandbox) -> Obj:
    for cfg in sb.store.all(KIND):
        if cfg["is_default"]:
            return cfg
    cfg = _blank(sb, is_default=True)
    features = cfg["features"]
    features["invoice_history"]["enabled"] = True
    features["payment_method_update"]["enabled"] = True
    features["subscription_cancel"]["enabled"] = True
    sb.store.put(cfg)
    return cfg


def session_configuration(sb: Sandbox, cfg_id: str | None) -> Obj:
    """The configuration a new portal session uses: the named one (active), else the
    default."""
    if cfg_id is None:
        return default_configuration(sb)
    cfg = sb.get(KIND, cfg_id, "configuration", param="configuration")
    if not cfg["active"]:
        raise invalid(f"The configuration {cfg_id} is not active; activate it or use "
                      "another configuration.", "configuration")
    return cfg


def allowed_prices(sb: Sandbox, cfg: Obj, sub: Obj) -> list[Obj]:
    """The prices the portal may switch `sub` to under `cfg` (its current price excluded):
    the configuration's listed prices, active, in the subscription's currency, and only when
    updates are enabled and the subscription's product is itself listed."""
    update = cfg["features"]["subscription_update"]
    if not update["enabled"] or "price" not in update["default_allowed_updates"]:
        return []
    items = sub["items"]["data"]
    if len(items) != 1:  # Stripe's portal does not switch multi-item subscriptions
        return []
    current = items[0]["price"]
    listed = {entry["product"]: entry["prices"] for entry in update["products"]}
    if current["product"] not in listed:
        return []
    out = []
    for price_ids in listed.values():
        for price_id in price_ids:
            price = sb.store.get("price", price_id)
            if (price is not None and price["active"] and price["type"] == "recurring"
                    and price["currency"] == current["currency"]
                    and price["id"] != current["id"]):
                out.append(price)
    return out


def refuse_price(price_id: str, param: str) -> StripeError:
    return invalid(f"The price {price_id} is not one this portal configuration allows the "
                   "subscription to be updated to.", param)


# --- parameters ------------------------------------------------------------------------------


def _enabled(params: Params, feature: str, creating: bool) -> bool | None:
    value = get_bool(params, "enabled", param=f"features[{feature}][enabled]")
    if value is None and creating:
        raise missing_param(f"features[{feature}][enabled]")
    return value


def _enum_list(params: Params, name: str, allowed: tuple[str, ...], label: str) -> list[str]:
    values = [str(v) for v in get_list(params, name)]
    for i, value in enumerate(values):
        if value not in allowed:
            raise invalid(f"Invalid {label}[{i}]: must be one of {', '.join(allowed)}",
                          f"{label}[{i}]")
    return values


def _products(sb: Sandbox, raw: list[Any]) -> list[Obj]:
    label = "features[subscription_update][products]"
    if len(raw) > MAX_PRODUCTS:
        raise invalid(f"You can list at most {MAX_PRODUCTS} products.", label)
    out: list[Obj] = []
    for i, entry in enumerate(raw):
        at = f"{label}[{i}]"
        if not isinstance(entry, dict):
            raise invalid(f"Invalid {at}: must be an object", at)
        product_id = get_str(entry, "product", required=True, param=f"{at}[product]") or ""
        sb.get("product", product_id, param=f"{at}[product]")
        if any(seen["product"] == product_id for seen in out):
            raise invalid(f"The product {product_id} is listed twice.", f"{at}[product]")
        price_ids = [str(p) for p in get_list(entry, "prices")]
        if not price_ids:
            raise missing_param(f"{at}[prices]")
        for j, price_id in enumerate(price_ids):
            price = sb.get("price", price_id, param=f"{at}[prices][{j}]")
            if price["product"] != product_id:
                raise invalid(f"The price {price_id} does not belong to the product "
                              f"{product_id}.", f"{at}[prices][{j}]")
            if price["type"] != "recurring":
                raise invalid(f"The price {price_id} is not recurring; only recurring prices "
                              "can be offered for subscription updates.", f"{at}[prices][{j}]")
        out.append({"adjustable_quantity": {"enabled": False, "maximum": None, "minimum": 1},
                    "prices": price_ids, "product": product_id})
    return out


def _apply_features(sb: Sandbox, cfg: Obj, given: Params, creating: bool) -> None:
    features = cfg["features"]
    for name in given:
        if name not in _FEATURES:
            raise invalid(f"Received unknown parameter: features[{name}]", f"features[{name}]")
    for name in _FEATURES:
        if name not in given:
            continue
        p = get_dict(given, name, param=f"features[{name}]")
        target = features[name]
        enabled = _enabled(p, name, creating)
        if enabled is not None:
            target["enabled"] = enabled
        label = f"features[{name}]"
        if name == "customer_update" and "allowed_updates" in p:
            target["allowed_updates"] = _enum_list(p, "allowed_updates", CUSTOMER_UPDATES,
                                                   f"{label}[allowed_updates]")
        elif name == "payment_method_update" and "payment_method_configuration" in p:
            target["payment_method_configuration"] = get_str(p, "payment_method_configuration")
        elif name == "subscription_cancel":
            for key, allowed in (("mode", CANCEL_MODES), ("proration_behavior", PRORATIONS)):
                value = get_enum(p, key, allowed, param=f"{label}[{key}]")
                if value is not None:
                    target[key] = value
            reason = get_dict(p, "cancellation_reason", param=f"{label}[cancellation_reason]")
            if reason:
                target["cancellation_reason"] = {
                    "enabled": bool(get_bool(reason, "enabled")),
                    "options": _enum_list(reason, "options", CANCEL_REASONS,
                                          f"{label}[cancellation_reason][options]")}
        elif name == "subscription_update":
            if "default_allowed_updates" in p:
                target["default_allowed_updates"] = _enum_list(
                    p, "default_allowed_updates", SUBSCRIPTION_UPDATES,
                    f"{label}[default_allowed_updates]")
            if "products" in p:
                target["products"] = _products(sb, get_list(p, "products"))
            value = get_enum(p, "proration_behavior", PRORATIONS,
                             param=f"{label}[proration_behavior]")
            if value is not None:
                target["proration_behavior"] = value
    update = features["subscription_update"]
    if update["enabled"] and not update["products"]:
        raise missing_param("features[subscription_update][products]")
    if update["enabled"] and not update["default_allowed_updates"]:
        raise missing_param("features[subscription_update][default_allowed_updates]")


def _apply_fields(sb: Sandbox, cfg: Obj, p: Params, creating: bool) -> None:
    if creating and not get_dict(p, "features"):
        raise missing_param("features")
    _apply_features(sb, cfg, get_dict(p, "features"), creating)
    profile = get_dict(p, "business_profile")
    for key in ("headline", "privacy_policy_url", "terms_of_service_url"):
        if key in profile:
            cfg["business_profile"][key] = get_str(profile, key,
                                                   param=f"business_profile[{key}]")
    if "default_return_url" in p:
        cfg["default_return_url"] = get_str(p, "default_return_url")
    if "name" in p:
        cfg["name"] = get_str(p, "name")
    login = get_dict(p, "login_page")
    if "enabled" in login:
        cfg["login_page"]["enabled"] = bool(get_bool(login, "enabled",
                                                     param="login_page[enabled]"))
    apply_metadata(cfg, p)


# --- routes ----------------------------------------------------------------------------------


@router.post("/v1/billing_portal/configurations", "billing_portal.ConfigurationCreateParams",
              _CONFIGURATION_FIELDS)
def create_configuration(sb: Sandbox, req: ApiRequest) -> Obj:
    cfg = _blank(sb, is_default=False)
    _apply_fields(sb, cfg, req.params, creating=True)
    sb.store.put(cfg)
    sb.emit("billing_portal.configuration.created", cfg)
    return cfg


@router.get("/v1/billing_portal/configurations/{id}", "billing_portal.ConfigurationRetrieveParams")
def retrieve_configuration(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    default_configuration(sb)  # the default exists once anything asks for configurations
    return sb.get(KIND, id, "configuration")


@router.post("/v1/billing_portal/configurations/{id}", "billing_portal.ConfigurationUpdateParams",
              (*_CONFIGURATION_FIELDS, "active"))
def update_configuration(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    cfg = sb.get(KIND, id, "configuration")
    before = sb.snapshot(cfg)
    p = req.params
    if "active" in p:
        active = bool(get_bool(p, "active"))
        if not active and cfg["is_default"]:
            raise invalid("The default configuration cannot be deactivated.", "active")
        cfg["active"] = active
    _apply_fields(sb, cfg, p, creating=False)
    if sb.snapshot(cfg) != before:  # an update that changes nothing is not an update
        cfg["updated"] = sb.real_now()
        sb.store.put(cfg)
        sb.emit("billing_portal.configuration.updated", cfg, before)
    return cfg


@router.get("/v1/billing_portal/configurations", "billing_portal.ConfigurationListParams",
              (*PAGE, "active", "is_default"))
def list_configurations(sb: Sandbox, req: ApiRequest) -> Obj:
    default_configuration(sb)
    p = req.params
    active = get_bool(p, "active")
    is_default = get_bool(p, "is_default")
    items = [c for c in sb.store.all(KIND)
             if (active is None or c["active"] == active)
             and (is_default is None or c["is_default"] == is_default)]
    return paginate(items, p, "/v1/billing_portal/configurations")
