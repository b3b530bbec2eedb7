"""Billing portal sessions (the API side; the page is in `portal_page`, the rules of what a
session allows in `portal_configurations`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .portal_configurations import allowed_prices, refuse_price, session_configuration
from .router import ApiRequest, Router
from .wire import Obj, Params, get_dict, get_enum, get_list, get_str, invalid, new_id

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
KIND = "billing_portal.session"
FLOWS = ("payment_method_update", "subscription_cancel", "subscription_update",
         "subscription_update_confirm")
AFTER_COMPLETION = ("hosted_confirmation", "portal_homepage", "redirect")
_LIVE = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")


def _flow_subscription(sb: Sandbox, customer: Obj, p: Params, flow: str) -> Obj:
    param = f"flow_data[{flow}][subscription]"
    sub_id = get_str(p, "subscription", required=True, param=param) or ""
    sub = sb.get("subscription", sub_id, param=param)
    if sub["customer"] != customer["id"] or sub["status"] not in _LIVE:
        raise invalid(f"The subscription {sub_id} is not an active subscription of the "
                      f"customer {customer['id']}.", param)
    return sub


def _flow(sb: Sandbox, customer: Obj, cfg: Obj, data: Params) -> Obj | None:
    """Stripe's `flow`: validated against the configuration now, as Stripe refuses a flow the
    configuration does not allow when the session is created."""
    if not data:
        return None
    type_ = get_enum(data, "type", FLOWS, required=True, param="flow_data[type]") or ""
    after = get_dict(data, "after_completion", param="flow_data[after_completion]")
    after_type = get_enum(after, "type", AFTER_COMPLETION,
                          param="flow_data[after_completion][type]") or "portal_homepage"
    redirect = get_dict(after, "redirect", param="flow_data[after_completion][redirect]")
    confirmation = get_dict(after, "hosted_confirmation")
    flow: Obj = {
        "after_completion": {
            "hosted_confirmation": {"custom_message": get_str(confirmation, "custom_message")}
            if after_type == "hosted_confirmation" else None,
            "redirect": {"return_url": get_str(
                redirect, "return_url", required=True,
                param="flow_data[after_completion][redirect][return_url]")}
            if after_type == "redirect" else None,
            "type": after_type},
        "subscription_cancel": None, "subscription_update": None,
        "subscription_update_confirm": None, "type": type_,
    }
    features = cfg["features"]
    if type_ == "payment_method_update":
        if not features["payment_method_update"]["enabled"]:
            raise invalid("This configuration does not allow payment method updates.",
                          "flow_data[type]")
        return flow
    p = get_dict(data, type_, param=f"flow_data[{type_}]")
    sub = _flow_subscription(sb, customer, p, type_)
    if type_ == "subscription_cancel":
        if not features["subscription_cancel"]["enabled"]:
            raise invalid("This configuration does not allow cancellations.",
                          "flow_data[type]")
        flow[type_] = {"retention": None, "subscription": sub["id"]}
        return flow
    options = {price["id"] for price in allowed_prices(sb, cfg, sub)}
    if not options:
        raise invalid(f"The subscription {sub['id']} cannot be updated with this portal "
                      "configuration.", f"flow_data[{type_}][subscription]")
    if type_ == "subscription_update":
        flow[type_] = {"subscription": sub["id"]}
        return flow
    items = get_list(p, "items")
    if len(items) != 1 or not isinstance(items[0], dict):
        raise invalid("Give exactly one item: the subscription's item and its new price.",
                      f"flow_data[{type_}][items]")
    label = f"flow_data[{type_}][items][0]"
    item_id = get_str(items[0], "id", required=True, param=f"{label}[id]")
    if item_id != sub["items"]["data"][0]["id"]:
        raise invalid(f"The item {item_id} is not on the subscription {sub['id']}.",
                      f"{label}[id]")
    price_id = get_str(items[0], "price", required=True, param=f"{label}[price]") or ""
    if price_id not in options:
        raise refuse_price(price_id, f"{label}[price]")
    flow[type_] = {"discounts": None, "items": [{"id": item_id, "price": price_id}],
                   "subscription": sub["id"]}
    return flow


@router.post("/v1/billing_portal/sessions", "billing_portal.SessionCreateParams",
              ("configuration", "customer", "flow_data", "locale", "return_url"))
def create_portal_session(sb: Sandbox, req: ApiRequest) -> Obj:
    cus_id = get_str(req.params, "customer", required=True) or ""
    customer = sb.get("customer", cus_id, param="customer")
    cfg = session_configuration(sb, get_str(req.params, "configuration"))
    flow = _flow(sb, customer, cfg, get_dict(req.params, "flow_data"))
    bps_id = new_id("bps")
    session: Obj = {
        "id": bps_id, "object": KIND, "configuration": cfg["id"],
        "created": sb.now(customer), "customer": cus_id, "customer_account": None,
        "flow": flow, "livemode": False, "locale": get_str(req.params, "locale"),
        "on_behalf_of": None,
        "return_url": get_str(req.params, "return_url") or cfg["default_return_url"],
        "url": f"{sb.base_url}/billing_portal/{bps_id}",
    }
    sb.store.put(session)
    return session


@router.get("/v1/billing_portal/sessions/{id}", None)
def retrieve_portal_session(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get(KIND, id, "billing portal session")
