"""`POST /v1/invoices/create_preview`: the invoice a subscription change would produce.

Nothing is stored or announced: the change is worked out on a copy of the subscription.
Without `proration_behavior=always_invoice` the preview is the next renewal's invoice (the
prorations the change leaves pending, then the next period at the new prices); with it, or when
the change moves to another billing interval, it is the invoice the change bills at once.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from . import invoices, taxes
from . import subscriptions as subs
from .discounts import apply_to_invoice, discount_subscription_invoice, parse_discounts
from .router import Router
from .strict import not_implemented
from .subscriptions_api import ENDED, PRORATION, _item_changes
from .wire import (
    Obj,
    Params,
    StripeError,
    get_dict,
    get_enum,
    get_int,
    get_list,
    get_str,
    invalid,
    new_id,
)

if TYPE_CHECKING:
    from .core import Sandbox
    from .router import ApiRequest

router = Router()
DETAILS = "subscription_details"


@router.post("/v1/invoices/create_preview", "InvoiceCreatePreviewParams", (
    "customer", "customer_details.address", "customer_details.tax_exempt", "discounts.coupon",
    "discounts.promotion_code", "subscription",
    f"{DETAILS}.items.deleted", f"{DETAILS}.items.id", f"{DETAILS}.items.price",
    f"{DETAILS}.items.quantity", f"{DETAILS}.proration_behavior", f"{DETAILS}.proration_date",
    f"{DETAILS}.trial_end"))
def create_preview(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    sub_id = get_str(p, "subscription")
    if sub_id is None:
        return _customer_preview(sb, p)
    sub = sb.get("subscription", sub_id, param="subscription")
    # Implemented for a new subscription's preview only.
    if "customer_details" in p:
        raise not_implemented("customer_details")
    if "trial_end" in get_dict(p, DETAILS):
        raise not_implemented(f"{DETAILS}[trial_end]")
    cus_id = get_str(p, "customer")
    if cus_id is not None and cus_id != sub["customer"]:
        raise invalid(f"The subscription {sub_id} does not belong to the customer {cus_id}.",
                      "customer")
    if sub["status"] in ENDED:
        raise invalid(f"No upcoming invoices for subscription {sub_id}.",
                      code="invoice_upcoming_none")
    customer = sb.get("customer", sub["customer"])
    details = get_dict(p, DETAILS)
    behavior = get_enum(details, "proration_behavior", PRORATION,
                        param=f"{DETAILS}[proration_behavior]") or "create_prorations"
    now = sb.now(sub)
    at = get_int(details, "proration_date", param=f"{DETAILS}[proration_date]") or now
    work = copy.deepcopy(sub)
    old_interval = subs.interval_of(work["items"]["data"][0]["price"])
    try:
        changes = _item_changes(sb, work, get_list(details, "items"))
    except StripeError as err:
        if err.param and err.param.startswith("items"):
            err.param = f"{DETAILS}[items]{err.param[len('items'):]}"
        raise
    prices = [i["price"] for i in work["items"]["data"]]
    if len({x["currency"] for x in prices}) != 1 or len({subs.interval_of(x)
                                                        for x in prices}) != 1:
        raise invalid("All prices on a subscription must have the same currency and "
                      "recurring interval.", f"{DETAILS}[items]")
    trialing = work["status"] == "trialing"
    new_period = not trialing and subs.interval_of(prices[0]) != old_interval
    prorated = [] if trialing or behavior == "none" else subs.proration_items(
        sb, work, customer,
        [(o, None if new_period else n, oq, 0 if new_period else nq, s)
         for o, n, oq, nq, s in changes], at)
    if new_period or (behavior == "always_invoice" and prorated):
        inv = _draft(sb, customer, work, (now, now), "subscription_update")
        lines = _proration_lines(sb, inv, work, prorated)
        if new_period:
            work["billing_cycle_anchor"] = now
            _move_period(work, now, subs.next_end(work, now))
            lines += subs.subscription_lines(sb, inv, work, trial=False)
        starts = now
    else:
        if work.get("cancel_at_period_end") and not prorated:
            raise invalid(f"No upcoming invoices for subscription {sub_id}.",
                          code="invoice_upcoming_none")
        _, end = subs.period_of(work)
        inv = _draft(sb, customer, work, (end, end), "subscription_cycle")
        lines = _pending_lines(sb, inv, customer, sub_id) + _proration_lines(
            sb, inv, work, prorated)
        _move_period(work, end, subs.next_end(work, end))
        lines += subs.subscription_lines(sb, inv, work, trial=False)
        starts = end
        inv["created"] = end
    invoices.add_lines(inv, lines)
    if "discounts" in p:
        _apply_given_discounts(sb, inv, customer, get_list(p, "discounts"))
    else:
        discount_subscription_invoice(sb, inv, work, preview=True, at=starts)
    taxes.apply(sb, inv, store=False)
    return inv


def _customer_preview(sb: Sandbox, p: Params) -> Obj:
    """Without a subscription: the invoice the customer's pending invoice items would make."""
    if get_dict(p, DETAILS):
        from .preview_new import new_subscription_preview  # a subscription not created yet

        return new_subscription_preview(sb, p)
    customer = sb.get("customer", get_str(p, "customer", required=True) or "", param="customer")
    now = sb.now(customer)
    inv = _draft(sb, customer, None, (now, now), "manual")
    lines = _pending_lines(sb, inv, customer, None)
    if not lines:
        raise invalid(f"Nothing to invoice for customer {customer['id']}.",
                      code="invoice_upcoming_none")
    invoices.add_lines(inv, lines)
    _apply_given_discounts(sb, inv, customer, get_list(p, "discounts"))
    taxes.apply(sb, inv, store=False)
    return inv


def _draft(sb: Sandbox, customer: Obj, sub: Obj | None, period: tuple[int, int],
           reason: str) -> Obj:
    """A preview invoice: never stored, its id starts with `upcoming_` as Stripe's do."""
    inv = invoices.new_invoice(sb, customer, billing_reason=reason, sub=sub, period=period,
                               auto_advance=False)
    sb.store.remove("invoice", inv["id"])
    inv["id"] = "upcoming_" + inv["id"]
    inv["lines"]["url"] = f"/v1/invoices/{inv['id']}/lines"
    inv["automatically_finalizes_at"] = None
    return inv


def _proration_lines(sb: Sandbox, inv: Obj, sub: Obj,
                     prorated: list[tuple[int, str, Obj, int, str, tuple[int, int]]]
                     ) -> list[Obj]:
    return [invoices.line(sb, inv["id"], amount=amount, currency=price["currency"],
                          description=desc, period=period, quantity=qty, price=price,
                          sub_id=sub["id"], si_id=si_id, ii_id=None, proration=True)
            for amount, desc, price, qty, si_id, period in prorated]


def _pending_lines(sb: Sandbox, inv: Obj, customer: Obj, sub_id: str | None) -> list[Obj]:
    """The customer's invoice items not yet on an invoice (what the next invoice claims)."""
    return [invoices.item_line(sb, inv["id"], ii)
            for ii in invoices.pending_items(sb, customer["id"], sub_id)]


def _move_period(sub: Obj, start: int, end: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end


def _apply_given_discounts(sb: Sandbox, inv: Obj, customer: Obj, entries: list[object]
                           ) -> None:
    """`discounts` on the preview: what the coupons would take off, redeeming nothing."""
    if not entries:
        return
    given = parse_discounts(sb, entries, customer=customer, currency=inv["currency"],
                            subtotal=inv["subtotal"])
    transient: list[Obj] = [{"id": new_id("di"), "object": "discount", "_applied": 0,
                              "_coupon": sb.snapshot(r.coupon)} for r in given]
    apply_to_invoice(sb, inv, transient)
    for d in transient:
        sb.store.remove("discount", d["id"])
