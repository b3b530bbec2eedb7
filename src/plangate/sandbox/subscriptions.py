"""The subscription engine: starting, changing (with proration), renewing, ending.

Status machine (Stripe's): incomplete → active | incomplete_expired; trialing → active
(or paused / canceled without a card); active → past_due on a failed renewal, then after
the last retry canceled | unpaid | still past_due (config); a later payment → active.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import invoices, taxes
from .discounts import Redemption, discount_subscription_invoice, redeem
from .invoices import Outcome, subscription_of
from .payments import card_of
from .periods import format_day, period_end_after, prorate
from .prices import plan_of
from .tiers import amount_for, is_metered, usage_of
from .wire import Obj, invalid, list_object, new_id

if TYPE_CHECKING:
    from .core import Sandbox


def new_item(sb: Sandbox, sub_id: str, price: Obj, quantity: int, start: int, end: int,
             metadata: Obj | None = None) -> Obj:
    item: Obj = {
        "id": new_id("si", 14), "object": "subscription_item", "billing_thresholds": None,
        "created": start, "current_period_end": end, "current_period_start": start,
        "discounts": [], "metadata": dict(metadata or {}), "plan": plan_of(price),
        "price": sb.snapshot(price), "quantity": quantity, "subscription": sub_id,
        "tax_rates": [],
    }
    if is_metered(price):
        del item["quantity"]  # Stripe's metered items have none: usage is billed instead
    return item


def items_of(sub: Obj) -> list[Obj]:
    return list(sub["items"]["data"])


def period_of(sub: Obj) -> tuple[int, int]:
    first = sub["items"]["data"][0]
    return int(first["current_period_start"]), int(first["current_period_end"])


def interval_of(price: Obj) -> tuple[str, int]:
    rec = price["recurring"] or {}
    return str(rec.get("interval")), int(rec.get("interval_count") or 1)


def next_end(sub: Obj, start: int) -> int:
    interval, count = interval_of(sub["items"]["data"][0]["price"])
    return period_end_after(int(sub["billing_cycle_anchor"]), start, interval, count)


def default_payment_method(sb: Sandbox, sub: Obj) -> str | None:
    if sub.get("default_payment_method"):
        return str(sub["default_payment_method"])
    cus = sb.store.get("customer", sub["customer"]) or {}
    pm = (cus.get("invoice_settings") or {}).get("default_payment_method")
    return str(pm) if pm else None


def would_fail_off_session(sb: Sandbox, pm_id: str) -> str | None:
    """The decline reason a charge of this saved card would get, if any (used where Stripe
    refuses up front, e.g. `payment_behavior=error_if_incomplete`)."""
    pm = sb.store.get("payment_method", pm_id)
    if pm is None:
        return None
    card = card_of(pm)
    if card.decline or card.charge_decline:
        return card.decline or card.charge_decline
    if card.authentication == "always" or (card.authentication == "on_session"
                                           and not pm.get("_setup")):
        return "authentication_required"
    return None


def subscription_lines(sb: Sandbox, inv: Obj, sub: Obj, trial: bool,
                       usage_period: tuple[int, int] | None = None) -> list[Obj]:
    """Licensed items for their current period; metered items bill the usage of
    `usage_period` (the period just ended, at a renewal) in arrears, or nothing yet."""
    lines = []
    for it in items_of(sub):
        price = sb.store.get("price", it["price"]["id"]) or it["price"]
        product = sb.store.get("product", price["product"]) or {"name": price["product"]}
        period = (it["current_period_start"], it["current_period_end"])
        if is_metered(price):
            period = usage_period or (period[0], period[0])
            qty = usage_of(sb, price, sub["customer"], period) if usage_period else 0
        else:
            qty = int(it["quantity"])
        amount = 0 if trial else amount_for(price, qty)
        desc = f"Trial period for {product['name']}" if trial else _line_text(
            price, qty, str(product["name"]))
        lines.append(invoices.line(
            sb, inv["id"], amount=amount, currency=price["currency"], description=desc,
            period=period, quantity=qty, price=price, sub_id=sub["id"], si_id=it["id"],
            ii_id=None, proration=False))
    return lines


def _line_text(price: Obj, qty: int, name: str) -> str:
    if price["billing_scheme"] == "tiered":
        return f"{qty} × {name} ({price['tiers_mode']} tiers / {interval_of(price)[0]})"
    return (f"{qty} × {name} (at {_money(price['unit_amount'], price['currency'])} / "
            f"{interval_of(price)[0]})")


def _money(amount: int, currency: str) -> str:
    return f"{currency.upper()} {amount // 100}.{amount % 100:02d}"


def start(sb: Sandbox, customer: Obj, prices: list[tuple[Obj, int, Obj]], *,
          trial_end: int | None, default_pm: str | None, metadata: Obj,
          payment_behavior: str = "allow_incomplete", off_session: bool = True,
          authenticated: bool = False, description: str | None = None,
          cancel_at_period_end: bool = False, missing_pm_behavior: str = "create_invoice",
          discounts: Sequence[Redemption] = (), checkout_session: str | None = None,
          tax: Obj | None = None) -> Obj:
    """Create a subscription and its first invoice, and try to pay it. `tax`, from
    `taxes.subscription_tax`: automatic tax, default tax rates and each item's rates."""
    now = sb.now(customer)
    currencies = {p["currency"] for p, _, _ in prices}
    if len(currencies) != 1:
        raise invalid("All prices on a subscription must have the same currency.", "items")
    first = prices[0][0]
    if any(interval_of(p) != interval_of(first) for p, _, _ in prices):
        raise invalid("All prices on a subscription must have the same recurring interval "
                      "and interval_count.", "items")
    sub_id = new_id("sub")
    trialing = trial_end is not None and trial_end > now
    anchor = trial_end if trialing and trial_end else now
    interval, count = interval_of(first)
    end = anchor if trialing else period_end_after(anchor, now, interval, count)
    sub: Obj = {
        "id": sub_id, "object": "subscription", "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": anchor, "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"}, "billing_schedules": [],
        "billing_thresholds": None, "cancel_at": None,
        "cancel_at_period_end": False, "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically", "created": now,
        "currency": first["currency"], "customer": customer["id"], "customer_account": None,
        "days_until_due": None, "default_payment_method": default_pm,
        "default_source": None, "default_tax_rates": [], "description": description,
        "discounts": [], "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": list_object([], f"/v1/subscription_items?subscription={sub_id}"),
        "latest_invoice": None, "livemode": False, "managed_payments": None,
        "metadata": dict(metadata), "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None,
        "pending_update": None, "schedule": None, "start_date": now,
        "status": "trialing" if trialing else "incomplete",
        "test_clock": customer.get("test_clock"), "transfer_data": None,
        "trial_end": trial_end if trialing else None,
        "trial_settings": {"end_behavior": {"missing_payment_method": missing_pm_behavior}},
        "trial_start": now if trialing else None,
    }
    sub["items"]["data"] = [new_item(sb, sub_id, p, q, now, end, md) for p, q, md in prices]
    if tax is not None:
        taxes.configure(sb, sub, tax)
    sub["discounts"] = [redeem(sb, r, customer, now, subscription=sub_id,
                               checkout_session=checkout_session)["id"] for r in discounts]
    sb.store.put(sub)
    inv = invoices.new_invoice(sb, customer, billing_reason="subscription_create", sub=sub,
                               period=(now, now), auto_advance=False)
    invoices.add_lines(inv, subscription_lines(sb, inv, sub, trial=trialing))
    discount_subscription_invoice(sb, inv, sub)
    sub["latest_invoice"] = inv["id"]
    sb.emit("invoice.created", inv)
    sb.emit("customer.subscription.created", sub)
    invoices.finalize(sb, inv)
    if trialing:
        pass  # the $0 invoice was paid on finalization
    elif payment_behavior == "default_incomplete":
        pass  # the client confirms the payment itself
    else:
        invoices.attempt_payment(sb, inv, off_session=off_session, authenticated=authenticated)
    if cancel_at_period_end:
        set_cancel_at_period_end(sb, sub, True)
    return sub


def on_invoice_outcome(sb: Sandbox, inv: Obj, outcome: Outcome) -> None:
    sub_id = subscription_of(inv)
    sub = sb.store.get("subscription", sub_id) if sub_id else None
    if sub is None or sub["status"] in ("canceled", "incomplete_expired"):
        return
    before = sb.snapshot(sub)
    if outcome == "paid":
        # Only the latest invoice (or the last open one) brings a subscription back.
        if sub["status"] in ("incomplete", "past_due", "unpaid") and (
                sub["latest_invoice"] == inv["id"] or not _has_open_invoices(sb, sub)):
            sub["status"] = "active"
    elif outcome == "failed":
        if inv["billing_reason"] == "subscription_create":
            return  # stays incomplete; expires after 23 hours
        if sub["status"] == "active":
            sub["status"] = "past_due"
        if inv["next_payment_attempt"] is None:  # the last retry failed
            sb.store.put(sub)
            sb.emit("customer.subscription.updated", sub, before)
            _after_retries(sb, sub)
            return
    sb.store.put(sub)
    sb.emit("customer.subscription.updated", sub, before)


def _has_open_invoices(sb: Sandbox, sub: Obj) -> bool:
    return any(subscription_of(i) == sub["id"] and i["status"] == "open"
               for i in sb.store.values("invoice"))


def _after_retries(sb: Sandbox, sub: Obj) -> None:
    action = sb.config.after_retries
    if action == "canceled":
        cancel_subscription(sb, sub, "payment_failed")
    elif action == "unpaid":
        before = sb.snapshot(sub)
        sub["status"] = "unpaid"
        sb.store.put(sub)
        sb.emit("customer.subscription.updated", sub, before)


invoices.OUTCOME_LISTENERS.append(on_invoice_outcome)


def cancel_subscription(sb: Sandbox, sub: Obj, reason: str, at: int | None = None) -> None:
    now = at if at is not None else sb.now(sub)
    sub["status"] = "canceled"
    sub["canceled_at"] = sub["canceled_at"] or now
    sub["ended_at"] = now
    sub["cancellation_details"]["reason"] = (sub["cancellation_details"]["reason"]
                                             or reason)
    sb.store.put(sub)
    for inv in sb.store.values("invoice"):
        if subscription_of(inv) == sub["id"] and inv["status"] == "open" \
                and inv["next_payment_attempt"] is not None:
            inv["next_payment_attempt"] = None  # collection stops with the subscription
            sb.store.put(inv)
    sb.emit("customer.subscription.deleted", sub)
    if sub.get("schedule"):
        from .schedules import subscription_ended

        subscription_ended(sb, sub, now)


def set_cancel_at_period_end(sb: Sandbox, sub: Obj, flag: bool) -> None:
    if flag:
        sub["cancel_at_period_end"] = True
        sub["cancel_at"] = period_of(sub)[1]
        sub["canceled_at"] = sb.now(sub)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
    else:
        sub["cancel_at_period_end"] = False
        sub["cancel_at"] = None
        sub["canceled_at"] = None
        sub["cancellation_details"]["reason"] = None


# --- changes -------------------------------------------------------------------------------------


def proration_items(sb: Sandbox, sub: Obj, customer: Obj,
                    changes: list[tuple[Obj | None, Obj | None, int, int, str]],
                    at: int) -> list[tuple[int, str, Obj, int, str, tuple[int, int]]]:
    """Credit for unused time on each old price, charge for the remaining time on each new
    one, to the second: `amount × (period_end − at) / (period_end − period_start)`."""
    p_start, p_end = period_of(sub)
    total, remaining = p_end - p_start, p_end - at
    out = []
    for old, new, old_qty, new_qty, si_id in changes:
        if old is not None and old_qty:
            name = _product_name(sb, old)
            amount = -prorate(amount_for(old, old_qty), remaining, total)
            out.append((amount, f"Unused time on {old_qty} × {name} after {format_day(at)}",
                        old, old_qty, si_id, (at, p_end)))
        if new is not None and new_qty:
            name = _product_name(sb, new)
            amount = prorate(amount_for(new, new_qty), remaining, total)
            out.append((amount, f"Remaining time on {new_qty} × {name} after "
                        f"{format_day(at)}", new, new_qty, si_id, (at, p_end)))
    return out


def _product_name(sb: Sandbox, price: Obj) -> str:
    product = sb.store.get("product", price["product"])
    return str(product["name"]) if product else str(price["product"])


def apply_change(sb: Sandbox, sub: Obj, customer: Obj, before: Obj,
                 lines: list[tuple[int, str, Obj, int, str, tuple[int, int]]],
                 behavior: str, *, new_period: bool = False, off_session: bool = True) -> None:
    """Announce a subscription change, then bill it in Stripe's event order:
    customer.subscription.updated → invoiceitem.created… → (invoice.created → finalized →
    payment) when invoicing now (`always_invoice`, or a new billing period)."""
    inv = None
    if new_period or (behavior == "always_invoice" and lines):
        now = sb.now(sub)
        reason = "subscription_update"
        inv = invoices.new_invoice(sb, customer, billing_reason=reason, sub=sub,
                                   period=(now, now), auto_advance=False)
        sub["latest_invoice"] = inv["id"]
    sb.store.put(sub)
    sb.emit("customer.subscription.updated", sub, before)
    if behavior != "none":
        for amount, desc, price, qty, si_id, period in lines:
            invoices.new_invoice_item(
                sb, customer, amount=amount, currency=price["currency"], description=desc,
                period=period, price=price, quantity=qty, sub_id=sub["id"], si_id=si_id,
                proration=True)
    if inv is None:
        return
    invoices.claim_pending_items(sb, inv, sub["id"])
    if new_period:
        invoices.add_lines(inv, subscription_lines(sb, inv, sub, trial=False))
        if discount_subscription_invoice(sb, inv, sub):
            sb.store.put(sub)
    sb.emit("invoice.created", inv)
    invoices.finalize(sb, inv)
    if inv["status"] == "open":
        invoices.attempt_payment(sb, inv, off_session=off_session)
