"""REST routes for subscriptions and subscription items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import subscriptions as subs
from .discounts import parse_discounts
from .expansion import INCLUDABLE
from .payments import decline_error, resolve_payment_method
from .prices import plan_of
from .router import PAGE, ApiRequest, Router
from .search import search_result
from .taxes import subscription_tax
from .tiers import amount_for, is_metered
from .wire import (
    Obj,
    Params,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_int,
    get_list,
    get_str,
    invalid,
    match_range,
    paginate,
    strip_private,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
PRORATION = ("create_prorations", "none", "always_invoice")
ENDED = ("canceled", "incomplete_expired")


def _recurring_price(sb: Sandbox, price_id: str, param: str) -> Obj:
    price = sb.get("price", price_id, param=param)
    if price["type"] != "recurring":
        raise invalid("The price specified is set to `type=one_time` but this field only "
                      "accepts prices with `type=recurring`.", param)
    if not price["active"]:
        raise invalid("The price specified is inactive. This field only accepts active "
                      "prices.", param)
    return price


def _customer_pm(sb: Sandbox, customer: Obj, pm_id: str, param: str) -> str:
    pm = resolve_payment_method(sb, pm_id, param, customer)
    if pm["customer"] is None and pm_id.startswith("pm_card_"):
        from .payments import attach_payment_method

        pm = attach_payment_method(sb, pm["id"], customer)
    if pm["customer"] != customer["id"]:
        raise invalid("The customer does not have a payment method with the ID "
                      f"{pm_id}. The payment method must be attached to the customer.", param)
    return str(pm["id"])


def _trial_end(sb: Sandbox, p: Params, prices: list[Obj], now: int) -> int | None:
    raw = get_str(p, "trial_end")
    if raw == "now":
        return None
    if raw is not None:
        end = get_int(p, "trial_end") or 0
        if end <= now:
            raise invalid("Invalid timestamp: must be an integer Unix timestamp in the "
                          "future.", "trial_end")
        return end
    days = get_int(p, "trial_period_days", minimum=0)
    if days is None and get_bool(p, "trial_from_plan"):
        days = (prices[0]["recurring"] or {}).get("trial_period_days")
    return now + days * 86400 if days else None


@router.post("/v1/subscriptions", "SubscriptionCreateParams",
              (
    "automatic_tax.enabled", "cancel_at_period_end", "customer", "default_payment_method",
    "default_tax_rates", "description", "discounts.coupon", "discounts.promotion_code",
    "items.metadata", "items.price", "items.quantity", "items.tax_rates", "metadata",
    "payment_behavior",
    "trial_end", "trial_from_plan", "trial_period_days",
    "trial_settings.end_behavior.missing_payment_method"))
def create_subscription(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    cus_id = get_str(p, "customer", required=True) or ""
    customer = sb.get("customer", cus_id, param="customer")
    items = get_list(p, "items")
    if not items:
        raise invalid("Missing required param: items.", "items", code="parameter_missing")
    chosen = []
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise invalid("Invalid items: must be a list of objects", f"items[{i}]")
        price_id = get_str(it, "price", required=True, param=f"items[{i}][price]") or ""
        qty = get_int(it, "quantity", param=f"items[{i}][quantity]", minimum=0)
        price = _recurring_price(sb, price_id, f"items[{i}][price]")
        chosen.append((price, _quantity(price, qty, f"items[{i}]"), get_dict(it, "metadata")))
    behavior = get_enum(p, "payment_behavior", ("allow_incomplete", "default_incomplete",
                                                "error_if_incomplete", "pending_if_incomplete"
                                                )) or "allow_incomplete"
    pm_id = get_str(p, "default_payment_method")
    if pm_id is not None:
        pm_id = _customer_pm(sb, customer, pm_id, "default_payment_method")
    now = sb.now(customer)
    trial_end = _trial_end(sb, p, [c[0] for c in chosen], now)
    if behavior == "error_if_incomplete" and trial_end is None:
        # Stripe creates nothing when the first payment would fail; check the card first.
        effective = pm_id or subs.default_payment_method(sb, {"customer": cus_id})
        reason = subs.would_fail_off_session(sb, effective) if effective else "generic_decline"
        if reason:
            raise decline_error(reason)
    end_behavior = get_dict(get_dict(p, "trial_settings"), "end_behavior")
    tax = subscription_tax(sb, p, customer)
    subtotal = sum(amount_for(pr, q) for pr, q, _ in chosen)
    redemptions = parse_discounts(sb, get_list(p, "discounts"), customer=customer,
                                  currency=chosen[0][0]["currency"], subtotal=subtotal)
    return subs.start(
        sb, customer, chosen, trial_end=trial_end, default_pm=pm_id,
        metadata=_metadata(p), payment_behavior=behavior,
        off_session=True,  # an API-created subscription is charged without the customer
        description=get_str(p, "description"),
        cancel_at_period_end=bool(get_bool(p, "cancel_at_period_end")),
        missing_pm_behavior=get_enum(end_behavior, "missing_payment_method",
                                     ("cancel", "create_invoice", "pause"))
        or "create_invoice", discounts=redemptions, tax=tax,
    )


def _quantity(price: Obj, qty: int | None, label: str) -> int:
    """An item's quantity: 1 by default; none at all for a metered price (its usage bills)."""
    if not is_metered(price):
        return 1 if qty is None else qty
    if qty is not None:
        raise invalid("Quantity should not be specified where usage_type is `metered`. "
                      f"Remove quantity from `{label}`.", f"{label}[quantity]")
    return 0


def _metadata(p: Params) -> Obj:
    holder: Obj = {"metadata": {}}
    apply_metadata(holder, p)
    return dict(holder["metadata"])


@router.get("/v1/subscriptions/search", "SubscriptionSearchParams", ("query", "limit", "page"))
def search_subscriptions(sb: Sandbox, req: ApiRequest) -> Obj:
    return search_result(sb.store.all("subscription"), req.params, "/v1/subscriptions/search")


@router.get("/v1/subscriptions/{id}", "SubscriptionRetrieveParams")
def retrieve_subscription(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("subscription", id)


@router.get("/v1/subscriptions", "SubscriptionListParams",
              (*PAGE, "customer", "price", "status", "test_clock", "created",
               "current_period_start", "current_period_end"))
def list_subscriptions(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    cus = get_str(p, "customer")
    status = get_str(p, "status")
    price = get_str(p, "price")
    clock = get_str(p, "test_clock")

    def wanted(s: Obj) -> bool:
        if status is None and s["status"] in ENDED:
            return False  # Stripe leaves ended subscriptions out unless asked
        if status not in (None, "all") and s["status"] != status:
            return False
        if price is not None and all(i["price"]["id"] != price for i in subs.items_of(s)):
            return False
        if not _in_periods(s, p):
            return False
        return (cus is None or s["customer"] == cus) and (clock is None
                                                          or s["test_clock"] == clock)

    return paginate([s for s in sb.store.all("subscription") if wanted(s)], p,
                    "/v1/subscriptions")


def _in_periods(sub: Obj, p: Params) -> bool:
    """The list's time filters as Stripe reads them: `created`, the latest item
    `current_period_start`, the earliest item `current_period_end`."""
    items = sub["items"]["data"]
    starts = [int(i["current_period_start"]) for i in items if i.get("current_period_start")]
    ends = [int(i["current_period_end"]) for i in items if i.get("current_period_end")]
    return (match_range(int(sub.get("created", 0)), p, "created")
            and match_range(max(starts, default=None), p, "current_period_start")
            and match_range(min(ends, default=None), p, "current_period_end"))


def _item_changes(sb: Sandbox, sub: Obj, items: list[Any]
                  ) -> list[tuple[Obj | None, Obj | None, int, int, str]]:
    changes: list[tuple[Obj | None, Obj | None, int, int, str]] = []
    start, end = subs.period_of(sub)
    for i, ip in enumerate(items):
        label = f"items[{i}]"
        if not isinstance(ip, dict):
            raise invalid("Invalid items: must be a list of objects", label)
        si_id = get_str(ip, "id")
        price_id = get_str(ip, "price")
        qty = get_int(ip, "quantity", param=f"{label}[quantity]", minimum=0)
        if si_id is not None:
            item = next((x for x in sub["items"]["data"] if x["id"] == si_id), None)
            if item is None:
                raise invalid(f"Invalid subscription item: {si_id} does not belong to this "
                              "subscription.", f"{label}[id]")
            old_price = sb.store.get("price", item["price"]["id"]) or item["price"]
            if get_bool(ip, "deleted"):
                sub["items"]["data"].remove(item)
                changes.append((old_price, None, item.get("quantity", 0), 0, si_id))
                continue
            new_price = _recurring_price(sb, price_id, f"{label}[price]") if price_id \
                else old_price
            old_qty = item.get("quantity", 0)
            new_qty = old_qty if qty is None and not is_metered(new_price) else \
                _quantity(new_price, qty, label)
            apply_metadata(item, ip)
            if new_price["id"] == old_price["id"] and new_qty == old_qty:
                continue
            changes.append((old_price, new_price, old_qty, new_qty, si_id))
            item.update(price=sb.snapshot(new_price), plan=plan_of(new_price),
                        quantity=new_qty)
            if is_metered(new_price):
                del item["quantity"]
        else:
            if price_id is None:
                raise invalid("Missing required param: items[price].", f"{label}[price]",
                              code="parameter_missing")
            price = _recurring_price(sb, price_id, f"{label}[price]")
            if any(x["price"]["id"] == price["id"] for x in sub["items"]["data"]):
                raise invalid("Cannot add multiple subscription items with the same price.",
                              f"{label}[price]")
            new_qty = _quantity(price, qty, label)
            item = subs.new_item(sb, sub["id"], price, new_qty, start, end,
                                 get_dict(ip, "metadata"))
            sub["items"]["data"].append(item)
            changes.append((None, price, 0, new_qty, item["id"]))
    if not sub["items"]["data"]:
        raise invalid("A subscription must have at least one item.", "items")
    return changes


def update(sb: Sandbox, sub: Obj, p: Params) -> Obj:
    """Change a subscription; price or quantity changes are prorated to the second."""
    if sub["status"] in ENDED:
        raise invalid("A canceled subscription can only update its cancellation_details "
                      "and metadata.")
    customer = sb.get("customer", sub["customer"])
    before = sb.snapshot(sub)
    behavior = get_enum(p, "proration_behavior", PRORATION) or "create_prorations"
    now = sb.now(sub)
    at = get_int(p, "proration_date") or now
    old_interval = subs.interval_of(sub["items"]["data"][0]["price"])
    changes = _item_changes(sb, sub, get_list(p, "items"))
    prices = [i["price"] for i in sub["items"]["data"]]
    if len({x["currency"] for x in prices}) != 1 or len({subs.interval_of(x)
                                                        for x in prices}) != 1:
        raise invalid("All prices on a subscription must have the same currency and "
                      "recurring interval.", "items")
    if "cancel_at_period_end" in p:
        subs.set_cancel_at_period_end(sb, sub, bool(get_bool(p, "cancel_at_period_end")))
    if "cancel_at" in p:
        cancel_at = get_int(p, "cancel_at")
        sub["cancel_at"] = cancel_at
        sub["cancel_at_period_end"] = False
        sub["canceled_at"] = now if cancel_at else None
    details = get_dict(p, "cancellation_details")
    for key in ("comment", "feedback"):
        if key in details:
            sub["cancellation_details"][key] = get_str(details, key)
    if "default_payment_method" in p:
        pm_id = get_str(p, "default_payment_method")
        sub["default_payment_method"] = (
            _customer_pm(sb, customer, pm_id, "default_payment_method") if pm_id else None)
    if "description" in p:
        sub["description"] = get_str(p, "description")
    apply_metadata(sub, p)
    new_interval = subs.interval_of(prices[0])
    new_period = sub["status"] != "trialing" and new_interval != old_interval
    lines: list[Any] = []
    if new_period:
        # A new interval restarts the billing cycle now: credit unused time, bill in full.
        lines = subs.proration_items(sb, sub, customer,
                                     [(o, None, oq, 0, s) for o, _, oq, _, s in changes], at)
        sub["billing_cycle_anchor"] = now
        end = subs.next_end(sub, now)
        for item in sub["items"]["data"]:
            item["current_period_start"], item["current_period_end"] = now, end
    elif sub["status"] != "trialing" and changes:
        lines = subs.proration_items(sb, sub, customer, changes, at)
    if get_str(p, "trial_end") == "now" and sub["status"] == "trialing":
        from .lifecycle import _end_trial

        sub["trial_end"] = now
        sb.store.put(sub)
        sb.emit("customer.subscription.updated", sub, before)
        _end_trial(sb, sub, now)
        return sub
    subs.apply_change(sb, sub, customer, before, lines, behavior, new_period=new_period)
    return sub


@router.post("/v1/subscriptions/{id}", "SubscriptionUpdateParams",
              (
    "cancel_at", "cancel_at_period_end", "cancellation_details.comment",
    "cancellation_details.feedback", "default_payment_method", "description", "items.deleted",
    "items.id", "items.metadata", "items.price", "items.quantity", "metadata",
    "payment_behavior", "proration_behavior", "proration_date", "trial_end"))
def update_subscription(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return update(sb, sb.get("subscription", id), req.params)


@router.delete("/v1/subscriptions/{id}", "SubscriptionCancelParams",
              ("cancellation_details.comment", "cancellation_details.feedback"))
def cancel(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    sub = sb.get("subscription", id)
    if sub["status"] in ENDED:
        raise invalid(f"No such subscription: '{id}'; it is already {sub['status']}.", "id",
                      code="resource_missing")
    details = get_dict(req.params, "cancellation_details")
    for key in ("comment", "feedback"):
        if key in details:
            sub["cancellation_details"][key] = get_str(details, key)
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    subs.cancel_subscription(sb, sub, "cancellation_requested")
    return sub


# --- subscription items --------------------------------------------------------------------------


def _item(sb: Sandbox, si_id: str) -> tuple[Obj, Obj]:
    for sub in sb.store.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == si_id:
                return sub, item
    raise invalid(f"No such subscription item: '{si_id}'", "id", code="resource_missing")


@router.get("/v1/subscription_items", "SubscriptionItemListParams", (*PAGE, "subscription"))
def list_items(sb: Sandbox, req: ApiRequest) -> Obj:
    sub_id = get_str(req.params, "subscription", required=True) or ""
    sub = sb.get("subscription", sub_id, param="subscription")
    return paginate(list(reversed(sub["items"]["data"])), req.params,
                    f"/v1/subscription_items?subscription={sub_id}")


@router.get("/v1/subscription_items/{id}", "SubscriptionItemRetrieveParams")
def retrieve_item(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return _item(sb, id)[1]


@router.post("/v1/subscription_items/{id}", "SubscriptionItemUpdateParams",
              ("metadata", "price", "proration_behavior", "proration_date", "quantity"))
def update_item(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    sub, _ = _item(sb, id)
    p = req.params
    change: dict[str, object] = {k: p[k] for k in ("price", "quantity", "metadata") if k in p}
    forwarded: dict[str, object] = {k: p[k] for k in ("proration_behavior", "proration_date")
                                    if k in p}
    update(sb, sub, {**forwarded, "items": [{"id": id, **change}]})
    return _item(sb, id)[1]


def _customer_subscriptions(sb: Sandbox, customer: Obj) -> Obj:
    """`customer.subscriptions`, there only when expanded: the ones not yet ended."""
    subs_of = [s for s in sb.store.all("subscription")
               if s["customer"] == customer["id"] and s["status"] not in ENDED]
    return {"object": "list", "data": [strip_private(s) for s in subs_of], "has_more": False,
            "total_count": len(subs_of), "url": f"/v1/customers/{customer['id']}/subscriptions"}


INCLUDABLE[("customer", "subscriptions")] = _customer_subscriptions
