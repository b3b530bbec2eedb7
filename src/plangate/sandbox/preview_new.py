"""`POST /v1/invoices/create_preview` for a subscription that does not exist yet
(`subscription_details[items]` without `subscription`): its first invoice.

The invoice is what `POST /v1/subscriptions` with the same items would bill at once: the
first period at the prices' amounts, or a $0 trial line per item when
`subscription_details[trial_end]` is in the future (then the period ends with the trial).
`discounts` apply as on the subscription. The customer is `customer`, or, for a customer
not created yet, `customer_details` (its `address` and `tax_exempt` are shown on the
invoice, whose `customer` is null). Nothing is stored or announced; the subscription and
its items have no ids yet, so the invoice's and lines' `subscription` are null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import invoices
from . import subscriptions as subs
from .periods import period_end_after
from .strict import NOT_IMPLEMENTED
from .subscriptions_api import _recurring_price
from .wire import Obj, Params, get_dict, get_enum, get_int, get_list, get_str, invalid

if TYPE_CHECKING:
    from .core import Sandbox

DETAILS = "subscription_details"


def preview_customer(sb: Sandbox, p: Params) -> Obj:
    """`customer`, or a customer that does not exist yet from `customer_details`."""
    cus_id = get_str(p, "customer")
    if cus_id is not None:
        return sb.get("customer", cus_id, param="customer")
    if "customer_details" not in p:
        raise invalid("Missing required param: customer.", "customer",
                      code="parameter_missing")
    given = get_dict(p, "customer_details")
    address = get_dict(given, "address", "customer_details[address]")
    fields = ("city", "country", "line1", "line2", "postal_code", "state")
    return {"id": None, "address": {k: address.get(k) for k in fields} if address else None,
            "email": None, "name": None, "phone": None, "test_clock": None, "currency": None,
            "_tax_exempt": get_enum(given, "tax_exempt", ("exempt", "none", "reverse"),
                                    param="customer_details[tax_exempt]") or "none"}


def _chosen(sb: Sandbox, details: Params) -> list[tuple[Obj, int]]:
    items = get_list(details, "items")
    if not items:
        raise invalid(f"Missing required param: {DETAILS}[items].", f"{DETAILS}[items]",
                      code="parameter_missing")
    chosen = []
    for i, it in enumerate(items):
        label = f"{DETAILS}[items][{i}]"
        if not isinstance(it, dict):
            raise invalid(f"Invalid {label}: must be an object", label)
        for name in ("id", "deleted"):
            if name in it:
                raise invalid(f"{label}[{name}] names an item of an existing subscription; "
                              "give `subscription` to preview a change to one.",
                              f"{label}[{name}]")
        price_id = get_str(it, "price", required=True, param=f"{label}[price]") or ""
        qty = get_int(it, "quantity", param=f"{label}[quantity]", minimum=0)
        chosen.append((_recurring_price(sb, price_id, f"{label}[price]"),
                       1 if qty is None else qty))
    first = chosen[0][0]
    if any(pr["currency"] != first["currency"] or subs.interval_of(pr) != subs.interval_of(first)
           for pr, _ in chosen):
        raise invalid("All prices on a subscription must have the same currency and "
                      "recurring interval.", f"{DETAILS}[items]")
    return chosen


def _trial_end(details: Params, now: int) -> int | None:
    raw = get_str(details, "trial_end")
    if raw is None or raw == "now":
        return None
    end = get_int(details, "trial_end", param=f"{DETAILS}[trial_end]") or 0
    if end <= now:
        raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.",
                      f"{DETAILS}[trial_end]")
    return end


def new_subscription_preview(sb: Sandbox, p: Params) -> Obj:
    from .previews import _apply_given_discounts, _draft

    customer = preview_customer(sb, p)
    details = get_dict(p, DETAILS)
    for name in ("proration_behavior", "proration_date"):  # for changes of a subscription
        if name in details:
            raise invalid(f"The sandbox does not implement the parameter {DETAILS}[{name}] "
                          "in a new subscription's preview (without `subscription`); the "
                          "request was not applied.", f"{DETAILS}[{name}]",
                          code=NOT_IMPLEMENTED)
    chosen = _chosen(sb, details)
    now = sb.now(customer)
    trial_end = _trial_end(details, now)
    first = chosen[0][0]
    interval, count = subs.interval_of(first)
    end = trial_end if trial_end is not None else period_end_after(now, now, interval, count)
    # automatic_tax is refused on create_preview (docs/sandbox-parameters.md): tax off.
    sub: Obj = {"id": "", "currency": first["currency"], "metadata": {},
                "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
                "items": {"data": [subs.new_item(sb, "", price, qty, now, end)
                                   for price, qty in chosen]}}
    inv = _draft(sb, customer, sub, (now, now), "subscription_create")
    lines = subs.subscription_lines(sb, inv, sub, trial=trial_end is not None)
    for li in lines:
        li["subscription"] = None
        li["parent"]["subscription_item_details"].update(subscription=None,
                                                         subscription_item=None)
    inv["parent"]["subscription_details"]["subscription"] = None
    inv["customer_tax_exempt"] = customer.get("_tax_exempt", "none")
    invoices.add_lines(inv, lines)
    _apply_given_discounts(sb, inv, customer, get_list(p, "discounts"))
    return inv
