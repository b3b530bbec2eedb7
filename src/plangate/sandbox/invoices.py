"""Invoices and invoice items: drafting, finalizing, paying, dunning dates, voiding.

Subscription consequences of a payment outcome live in `subscriptions`, which registers in
`OUTCOME_LISTENERS`, so this module does not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from .charges import confirm_payment_intent, new_payment_intent
from .expansion import INCLUDABLE
from .payments import resolve_payment_method
from .periods import DAY
from .wire import Obj, StripeError, invalid, list_object, new_id

if TYPE_CHECKING:
    from .core import Sandbox

Outcome = Literal["paid", "failed", "action_required"]
OUTCOME_LISTENERS: list[Callable[[Sandbox, Obj, Outcome], None]] = []
# Run on a draft just before it is finalized (`taxes` computes its taxes and totals).
BEFORE_FINALIZE: list[Callable[[Sandbox, Obj], None]] = []


def subscription_of(inv: Obj) -> str | None:
    parent = inv.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub = details.get("subscription")
    return sub if isinstance(sub, str) else None


def line(sb: Sandbox, inv_id: str, *, amount: int, currency: str, description: str,
         period: tuple[int, int], quantity: int | None, price: Obj | None,
         sub_id: str | None, si_id: str | None, ii_id: str | None, proration: bool) -> Obj:
    if sub_id is not None:
        parent: Obj = {"type": "subscription_item_details", "invoice_item_details": None,
                       "subscription_item_details": {
                           "invoice_item": ii_id, "proration": proration,
                           "proration_details": {"credited_items": None},
                           "subscription": sub_id, "subscription_item": si_id}}
    else:
        parent = {"type": "invoice_item_details", "subscription_item_details": None,
                  "invoice_item_details": {
                      "invoice_item": ii_id, "proration": proration,
                      "proration_details": {"credited_items": None}, "subscription": None}}
    return {
        "id": new_id("il"), "object": "line_item", "amount": amount, "currency": currency,
        # Stripe: prorations and negative lines are never discounted.
        "description": description, "discount_amounts": [],
        "discountable": not proration and amount >= 0,
        "discounts": [], "invoice": inv_id, "livemode": False, "metadata": {},
        "parent": parent, "period": {"start": period[0], "end": period[1]},
        "pretax_credit_amounts": [],
        "pricing": {"type": "price_details", "unit_amount_decimal": (
            price["unit_amount_decimal"] if price else str(amount)),
            "price_details": {"price": price["id"], "product": price["product"]}
            if price else None},
        "quantity": quantity, "quantity_decimal": None, "subscription": sub_id,
        "subtotal": amount, "taxes": [],
    }


def new_invoice(sb: Sandbox, customer: Obj, *, billing_reason: str, sub: Obj | None,
                period: tuple[int, int], auto_advance: bool = True) -> Obj:
    """A draft invoice, stored but not announced (callers emit `invoice.created` when the
    event order needs it)."""
    now = sb.now(customer)
    inv_id = new_id("in")
    inv: Obj = {
        "id": inv_id, "object": "invoice", "account_country": "US",
        "account_name": "Plangate Sandbox", "account_tax_ids": None, "amount_due": 0,
        "amount_overpaid": 0, "amount_paid": 0, "amount_remaining": 0, "amount_shipping": 0,
        "application": None, "attempt_count": 0, "attempted": False,
        "auto_advance": auto_advance,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None,
                          "provider": None, "status": None},
        "automatically_finalizes_at": None, "billing_reason": billing_reason,
        "collection_method": "charge_automatically", "created": now,
        "currency": (sub or {}).get("currency") or customer.get("currency") or "usd",
        "custom_fields": None, "customer": customer["id"], "customer_account": None,
        "customer_address": customer.get("address"), "customer_email": customer.get("email"),
        "customer_name": customer.get("name"), "customer_phone": customer.get("phone"),
        "customer_shipping": None, "customer_tax_exempt": "none", "customer_tax_ids": [],
        "default_payment_method": None, "default_source": None, "default_tax_rates": [],
        "description": None, "discounts": [], "due_date": None, "effective_at": None,
        "ending_balance": None, "footer": None, "from_invoice": None,
        "hosted_invoice_url": None, "invoice_pdf": None, "issuer": {"type": "self"},
        "last_finalization_error": None, "latest_revision": None,
        "lines": list_object([], f"/v1/invoices/{inv_id}/lines"), "livemode": False,
        "metadata": {}, "next_payment_attempt": None, "number": None, "on_behalf_of": None,
        "parent": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": period[1], "period_start": period[0],
        "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
        "receipt_number": None, "rendering": None, "shipping_cost": None,
        "shipping_details": None, "starting_balance": 0, "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None,
                               "paid_at": None, "voided_at": None},
        "subscription": None, "subtotal": 0, "subtotal_excluding_tax": 0,
        "test_clock": customer.get("test_clock"), "total": 0, "total_discount_amounts": [],
        "total_excluding_tax": 0, "total_pretax_credit_amounts": [], "total_taxes": [],
        "webhooks_delivered_at": None,
    }
    if sub is not None:
        inv["parent"] = {"type": "subscription_details", "quote_details": None,
                         "subscription_details": {"metadata": dict(sub["metadata"]),
                                                  "subscription": sub["id"]}}
        inv["automatic_tax"]["enabled"] = sub["automatic_tax"]["enabled"]
    if auto_advance and billing_reason != "manual":
        inv["automatically_finalizes_at"] = now + sb.config.draft_invoice_seconds
    sb.store.put(inv)
    return inv


def add_lines(inv: Obj, lines: list[Obj]) -> None:
    inv["lines"]["data"].extend(lines)
    total = sum(int(li["amount"]) for li in inv["lines"]["data"])
    inv.update(subtotal=total, subtotal_excluding_tax=total, total=total,
               total_excluding_tax=total, amount_due=max(0, total),
               amount_remaining=max(0, total) - inv["amount_paid"])


def pending_items(sb: Sandbox, customer_id: str, sub_id: str | None) -> list[Obj]:
    """The customer's invoice items not yet on an invoice, oldest first (those of other
    subscriptions left out when `sub_id` is given)."""
    out = []
    for ii in reversed(sb.store.all("invoiceitem")):
        if ii["customer"] != customer_id or ii["invoice"] is not None:
            continue
        ii_sub = ((ii.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        if sub_id is not None and ii_sub not in (None, sub_id):
            continue
        out.append(ii)
    return out


def item_line(sb: Sandbox, inv_id: str, ii: Obj) -> Obj:
    """An invoice item as a line of the invoice `inv_id`."""
    details = (ii.get("parent") or {}).get("subscription_details") or {}
    price = sb.store.get("price", (ii["pricing"]["price_details"] or {}).get("price", ""))
    return line(sb, inv_id, amount=ii["amount"], currency=ii["currency"],
                description=ii["description"],
                period=(ii["period"]["start"], ii["period"]["end"]), quantity=ii["quantity"],
                price=price, sub_id=details.get("subscription"),
                si_id=details.get("subscription_item"), ii_id=ii["id"],
                proration=ii["proration"])


def claim_pending_items(sb: Sandbox, inv: Obj, sub_id: str | None) -> None:
    """Move the customer's pending invoice items (e.g. prorations) onto this invoice."""
    lines = []
    for ii in pending_items(sb, inv["customer"], sub_id):
        ii["invoice"] = inv["id"]
        sb.store.put(ii)
        lines.append(item_line(sb, inv["id"], ii))
    add_lines(inv, lines)


def finalize(sb: Sandbox, inv: Obj) -> None:
    """draft → open (numbered, hosted page), applying any customer credit balance; a zero
    amount due is paid at once."""
    if inv["status"] != "draft":
        raise invalid("This invoice is already finalized, you can't re-finalize a "
                      "non-draft invoice.", code="invoice_not_editable")
    for hook in BEFORE_FINALIZE:
        hook(sb, inv)
    cus = sb.get("customer", inv["customer"])
    now = sb.now(inv)
    balance = int(cus.get("balance") or 0)
    net = inv["total"] + balance
    inv["starting_balance"] = balance
    inv["ending_balance"] = min(0, net)
    inv["amount_due"] = max(0, net)
    inv["amount_remaining"] = inv["amount_due"] - inv["amount_paid"]
    if cus.get("balance", 0) != min(0, net):
        cus["balance"] = min(0, net)
        sb.store.put(cus)
    inv["number"] = f"{cus['invoice_prefix']}-{cus['next_invoice_sequence']:04d}"
    cus["next_invoice_sequence"] += 1
    if cus.get("currency") is None:
        cus["currency"] = inv["currency"]
    sb.store.put(cus)
    inv.update(status="open", effective_at=now, automatically_finalizes_at=None,
               hosted_invoice_url=f"{sb.base_url}/invoice/{inv['id']}")
    inv["status_transitions"]["finalized_at"] = now
    sb.store.put(inv)
    sb.emit("invoice.finalized", inv)
    if inv["amount_due"] == 0:
        mark_paid(sb, inv)


def mark_paid(sb: Sandbox, inv: Obj) -> None:
    now = sb.now(inv)
    inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0,
               attempted=True, next_payment_attempt=None, auto_advance=False)
    inv["status_transitions"]["paid_at"] = now
    sb.store.put(inv)
    sb.emit("invoice.paid", inv)
    sb.emit("invoice.payment_succeeded", inv)
    for listener in OUTCOME_LISTENERS:
        listener(sb, inv, "paid")


def payment_method_for(sb: Sandbox, inv: Obj) -> str | None:
    if inv.get("default_payment_method"):
        return str(inv["default_payment_method"])
    sub_id = subscription_of(inv)
    sub = sb.store.get("subscription", sub_id) if sub_id else None
    if sub is not None and sub.get("default_payment_method"):
        return str(sub["default_payment_method"])
    cus = sb.store.get("customer", inv["customer"])
    pm = ((cus or {}).get("invoice_settings") or {}).get("default_payment_method")
    return str(pm) if pm else None


def _next_attempt(sb: Sandbox, inv: Obj, now: int) -> int | None:
    """Stripe's custom retry schedule: each retry N days after the previous attempt. The
    first invoice of a subscription is not retried (it expires with the subscription)."""
    if subscription_of(inv) is None or inv["billing_reason"] == "subscription_create":
        return None
    schedule = sb.config.retry_schedule_days
    done_retries = inv["attempt_count"] - 1
    if done_retries < len(schedule):
        return now + int(schedule[done_retries]) * DAY
    return None


def attempt_payment(sb: Sandbox, inv: Obj, *, off_session: bool = True,
                    payment_method: str | None = None, authenticated: bool = False
                    ) -> tuple[Outcome, StripeError | None]:
    """Charge what the invoice still owes and record the outcome (with dunning dates)."""
    if inv["status"] not in ("open", "uncollectible"):
        raise invalid(f"Invoice is already {inv['status']}.", code="invoice_not_open")
    if inv["amount_remaining"] == 0:
        mark_paid(sb, inv)
        return "paid", None
    now = sb.now(inv)
    cus = sb.get("customer", inv["customer"])
    pi = sb.store.get("payment_intent", inv.get("_payment_intent") or "")
    if pi is None or pi["status"] in ("succeeded", "canceled"):
        description = {"subscription_create": "Subscription creation",
                       "subscription_update": "Subscription update",
                       "subscription_cycle": "Subscription update"}.get(
            inv["billing_reason"], f"Invoice {inv['number']}")
        pi = new_payment_intent(sb, inv["amount_remaining"], inv["currency"], cus, description)
        inv["_payment_intent"] = pi["id"]
        sb.store.put(inv)
    pm_id = payment_method or payment_method_for(sb, inv)
    err: StripeError | None
    before = sb.snapshot(inv)
    if pm_id is not None:
        pi["payment_method"] = resolve_payment_method(sb, pm_id, clock_of=cus)["id"]
        sb.store.put(pi)
        err = confirm_payment_intent(sb, pi, off_session=off_session,
                                     authenticated=authenticated)
    else:
        err = StripeError(402, "invalid_request_error",
                          "The customer has no default payment method.",
                          code="invoice_no_customer_payment_method")
    if pi["status"] == "succeeded":
        inv["attempt_count"] += 1
        mark_paid(sb, inv)
        return "paid", None
    inv["attempt_count"] += 1
    inv["attempted"] = True
    if pi["status"] == "requires_action":
        sb.store.put(inv)
        sb.emit("invoice.payment_action_required", inv)
        return "action_required", None
    inv["next_payment_attempt"] = _next_attempt(sb, inv, now)
    sb.store.put(inv)
    sb.emit("invoice.payment_failed", inv)
    sb.emit("invoice.updated", inv, before)
    for listener in OUTCOME_LISTENERS:
        listener(sb, inv, "failed")
    return "failed", err


def void(sb: Sandbox, inv: Obj) -> None:
    if inv["status"] not in ("open", "uncollectible"):
        raise invalid(f"You can only void open or uncollectible invoices; this one is "
                      f"{inv['status']}.", code="invoice_not_open")
    inv.update(status="void", next_payment_attempt=None, amount_remaining=0,
               auto_advance=False)
    inv["status_transitions"]["voided_at"] = sb.now(inv)
    sb.store.put(inv)
    sb.emit("invoice.voided", inv)


def mark_uncollectible(sb: Sandbox, inv: Obj) -> None:
    if inv["status"] != "open":
        raise invalid("You can only mark open invoices uncollectible.",
                      code="invoice_not_open")
    inv.update(status="uncollectible", next_payment_attempt=None, auto_advance=False)
    inv["status_transitions"]["marked_uncollectible_at"] = sb.now(inv)
    sb.store.put(inv)
    sb.emit("invoice.marked_uncollectible", inv)


def new_invoice_item(sb: Sandbox, customer: Obj, *, amount: int, currency: str,
                     description: str, period: tuple[int, int], price: Obj | None,
                     quantity: int, sub_id: str | None, si_id: str | None,
                     proration: bool) -> Obj:
    ii: Obj = {
        "id": new_id("ii"), "object": "invoiceitem", "amount": amount, "currency": currency,
        "customer": customer["id"], "customer_account": None, "date": sb.now(customer),
        "description": description, "discountable": not proration and amount >= 0,
        "discounts": [],
        "invoice": None, "livemode": False, "metadata": {}, "net_amount": amount,
        "parent": {"type": "subscription_details", "subscription_details": {
            "subscription": sub_id, "subscription_item": si_id}} if sub_id else None,
        "period": {"start": period[0], "end": period[1]},
        "pricing": {"type": "price_details", "unit_amount_decimal": str(
            amount // quantity if quantity else amount),
            "price_details": {"price": price["id"], "product": price["product"]}
            if price else None},
        "proration": proration, "quantity": quantity, "quantity_decimal": str(quantity),
        "tax_rates": [], "test_clock": customer.get("test_clock"),
    }
    sb.store.put(ii)
    sb.emit("invoiceitem.created", ii)
    return ii


def _invoice_payments(sb: Sandbox, inv: Obj) -> Obj:
    """`invoice.payments`, included on request as Stripe does since Basil."""
    pi = sb.store.get("payment_intent", inv.get("_payment_intent") or "")
    data = []
    if pi is not None:
        paid = pi["status"] == "succeeded"
        data.append({
            "id": "inpay_" + pi["id"][3:], "object": "invoice_payment",
            "amount_paid": pi["amount_received"] if paid else None,
            "amount_requested": pi["amount"], "created": pi["created"],
            "currency": pi["currency"], "invoice": inv["id"], "is_default": True,
            "livemode": False, "payment": {"type": "payment_intent",
                                           "payment_intent": pi["id"]},
            "status": "paid" if paid else "open",
            "status_transitions": {"canceled_at": None,
                                   "paid_at": inv["status_transitions"]["paid_at"]},
        })
    return list_object(data, f"/v1/invoice_payments?invoice={inv['id']}")


def _invoice_payment_intent(sb: Sandbox, inv: Obj) -> Obj | None:
    """Pre-Basil `invoice.payment_intent`, still accepted in `expand` for older clients."""
    pi = sb.store.get("payment_intent", inv.get("_payment_intent") or "")
    return sb.snapshot(pi) if pi is not None else None


INCLUDABLE[("invoice", "payments")] = _invoice_payments
INCLUDABLE[("invoice", "payment_intent")] = _invoice_payment_intent
