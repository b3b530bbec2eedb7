"""What happens with time: trial reminders and ends, renewals, period-end cancellations,
draft finalization, payment retries, expiry of incomplete subscriptions.

Each function below is a scheduler source; the scheduler runs the earliest due action first.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from . import invoices, scheduler, taxes
from .discounts import discount_subscription_invoice
from .periods import DAY
from .subscriptions import (
    cancel_subscription,
    default_payment_method,
    next_end,
    period_of,
    subscription_lines,
)
from .wire import Obj

if TYPE_CHECKING:
    from .core import Sandbox

_INCOMPLETE_SECONDS = 23 * 3600
_TRIAL_NOTICE = 3 * DAY


@scheduler.source("subscription", scheduler.own_clock)
def subscription_work(sb: Sandbox, sub: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    status = sub["status"]
    if status == "trialing":
        end = int(sub["trial_end"])
        if not sub.get("_trial_will_end_sent"):
            at = max(int(sub["trial_start"] or 0), end - _TRIAL_NOTICE)
            yield at, 1, partial(_trial_will_end, sb, sub)
        yield end, 2, partial(_end_trial, sb, sub)
    elif status in ("active", "past_due", "unpaid"):
        start, end = period_of(sub)
        cancel_at = sub.get("cancel_at")
        if cancel_at is not None and cancel_at <= end:
            yield int(cancel_at), 3, partial(_cancel_at, sb, sub)
            return
        yield end, 3, partial(_renew, sb, sub)
        notice = sb.config.upcoming_invoice_days * DAY
        if end - start > notice and sub.get("_upcoming_for") != end:
            yield end - notice, 0, partial(_upcoming, sb, sub)
    elif status == "incomplete":
        yield int(sub["created"]) + _INCOMPLETE_SECONDS, 4, partial(_expire, sb, sub)


@scheduler.source("invoice", scheduler.own_clock)
def invoice_work(sb: Sandbox, inv: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    if inv["status"] == "draft" and inv.get("automatically_finalizes_at"):
        yield int(inv["automatically_finalizes_at"]), 5, partial(_finalize, sb, inv)
    elif inv["status"] == "open" and inv.get("next_payment_attempt"):
        yield int(inv["next_payment_attempt"]), 5, partial(_retry, sb, inv)


def _trial_will_end(sb: Sandbox, sub: Obj, at: int) -> None:
    sub["_trial_will_end_sent"] = True
    sb.store.put(sub)
    sb.emit("customer.subscription.trial_will_end", sub)


def _end_trial(sb: Sandbox, sub: Obj, at: int) -> None:
    behavior = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
    if default_payment_method(sb, sub) is None and behavior != "create_invoice":
        if behavior == "cancel":
            cancel_subscription(sb, sub, "cancellation_requested", at)
        else:
            before = sb.snapshot(sub)
            sub["status"] = "paused"
            sb.store.put(sub)
            sb.emit("customer.subscription.updated", sub, before)
        return
    _renew(sb, sub, at, ending_trial=True)


def _renew(sb: Sandbox, sub: Obj, at: int, ending_trial: bool = False) -> None:
    """A new period: customer.subscription.updated, then a draft subscription_cycle invoice
    that finalizes and charges `draft_invoice_seconds` later."""
    customer = sb.get("customer", sub["customer"])
    before = sb.snapshot(sub)
    old_start, _ = period_of(sub)
    end = next_end(sub, at)
    for item in sub["items"]["data"]:
        item["current_period_start"] = at
        item["current_period_end"] = end
    if ending_trial:
        sub["status"] = "active"
    inv = invoices.new_invoice(sb, customer, billing_reason="subscription_cycle", sub=sub,
                               period=(old_start, at))
    inv["automatically_finalizes_at"] = at + sb.config.draft_invoice_seconds
    invoices.claim_pending_items(sb, inv, sub["id"])
    invoices.add_lines(inv, subscription_lines(sb, inv, sub, trial=False,
                                               usage_period=(old_start, at)))
    discount_subscription_invoice(sb, inv, sub, at=at)
    taxes.apply(sb, inv)
    sub["latest_invoice"] = inv["id"]
    sb.store.put(sub)
    sb.emit("customer.subscription.updated", sub, before)
    sb.emit("invoice.created", inv)


def _cancel_at(sb: Sandbox, sub: Obj, at: int) -> None:
    cancel_subscription(sb, sub, "cancellation_requested", at)


def _upcoming(sb: Sandbox, sub: Obj, at: int) -> None:
    """`invoice.upcoming`: a preview of the next invoice (it has no real id yet)."""
    _, end = period_of(sub)
    sub["_upcoming_for"] = end
    sb.store.put(sub)
    customer = sb.get("customer", sub["customer"])
    preview = invoices.new_invoice(sb, customer, billing_reason="upcoming", sub=sub,
                                   period=(end, end), auto_advance=False)
    sb.store.remove("invoice", preview["id"])  # a preview is never stored
    preview["id"] = "upcoming_" + preview["id"]
    preview["billing_reason"] = "upcoming"
    invoices.add_lines(preview, subscription_lines(sb, preview, sub, trial=False,
                                                   usage_period=period_of(sub)))
    discount_subscription_invoice(sb, preview, sub, preview=True, at=end)
    taxes.apply(sb, preview, store=False)
    preview["created"] = end
    sb.emit("invoice.upcoming", preview)


def _expire(sb: Sandbox, sub: Obj, at: int) -> None:
    before = sb.snapshot(sub)
    sub["status"] = "incomplete_expired"
    sub["ended_at"] = at
    sb.store.put(sub)
    latest = sb.store.get("invoice", sub.get("latest_invoice") or "")
    if latest is not None and latest["status"] == "open":
        invoices.void(sb, latest)
    sb.emit("customer.subscription.updated", sub, before)


def _finalize(sb: Sandbox, inv: Obj, at: int) -> None:
    invoices.finalize(sb, inv)
    if inv["status"] == "open":
        invoices.attempt_payment(sb, inv, off_session=True)


def _retry(sb: Sandbox, inv: Obj, at: int) -> None:
    invoices.attempt_payment(sb, inv, off_session=True)
