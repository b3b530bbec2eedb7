"""Subscription schedules: phases of a subscription's items, applied as time passes.

A schedule is `not_started` until its first phase starts (it then creates the subscription),
`active` while a phase runs, and ends `released` (the subscription keeps going, by
`release` or when the last phase ends with `end_behavior=release`), `completed` (the last
phase ended with `end_behavior=cancel`: the subscription is canceled) or `canceled`.

A phase transition is scheduled work (see `scheduler`): at a phase's `end_date` the
subscription's items become the next phase's, before a renewal (or trial end) due then, so
a transition at the period end bills the new prices at that renewal. A transition inside a
period prorates by the next phase's `proration_behavior` (default `create_prorations`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from . import scheduler
from .periods import add_intervals
from .prices import plan_of
from .subscriptions import interval_of, items_of, period_of
from .tiers import is_metered
from .wire import Obj, get_dict, get_int, get_list, get_str, invalid, new_id

if TYPE_CHECKING:
    from .core import Sandbox

KIND = "subscription_schedule"
LIVE = ("not_started", "active")
PRORATION = ("create_prorations", "none", "always_invoice")


def new_schedule(sb: Sandbox, customer: Obj, now: int) -> Obj:
    return {
        "id": new_id("sub_sched"), "object": KIND, "application": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "canceled_at": None, "completed_at": None, "created": now, "current_phase": None,
        "customer": customer["id"], "customer_account": None,
        "default_settings": {
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": "automatic", "billing_thresholds": None,
            "collection_method": "charge_automatically", "default_payment_method": None,
            "description": None,
            "invoice_settings": {"account_tax_ids": None, "days_until_due": None,
                                 "issuer": {"type": "self"}},
            "on_behalf_of": None, "transfer_data": None,
        },
        "end_behavior": "release", "livemode": False, "metadata": {}, "phases": [],
        "released_at": None, "released_subscription": None, "status": "not_started",
        "subscription": None, "test_clock": customer.get("test_clock"),
    }


def phase(sb: Sandbox, items: list[tuple[Obj, int, Obj]], start: int, end: int,
          proration_behavior: str = "create_prorations", metadata: Obj | None = None) -> Obj:
    return {
        "add_invoice_items": [], "application_fee_percent": None,
        "billing_cycle_anchor": None, "billing_thresholds": None, "collection_method": None,
        "currency": items[0][0]["currency"], "default_payment_method": None,
        "default_tax_rates": [], "description": None, "discounts": [], "end_date": end,
        "invoice_settings": None,
        "items": [{"billing_thresholds": None, "discounts": [], "metadata": dict(md),
                   "plan": plan_of(price)["id"], "price": price["id"],
                   "quantity": None if is_metered(price) else qty,
                   "tax_rates": []} for price, qty, md in items],
        "metadata": dict(metadata or {}), "on_behalf_of": None,
        "proration_behavior": proration_behavior, "start_date": start, "transfer_data": None,
        "trial_end": None,
    }


def phase_from_subscription(sb: Sandbox, sub: Obj) -> Obj:
    start, end = period_of(sub)
    items = [(sb.store.get("price", i["price"]["id"]) or i["price"], int(i.get("quantity") or 0),
              i["metadata"]) for i in items_of(sub)]
    return phase(sb, items, start, end)


def parse_phases(sb: Sandbox, raw: list[Any], start: int | None, default_proration: str,
                 fixed_first: int | None = None) -> list[Obj]:
    """Phases from request parameters, each starting where the one before ends. The first
    starts at its `start_date`, else `start` (the schedule's start, or the current phase's)."""
    if not raw:
        raise invalid("Missing required param: phases.", "phases", code="parameter_missing")
    out: list[Obj] = []
    at = start
    for i, p in enumerate(raw):
        label = f"phases[{i}]"
        if not isinstance(p, dict):
            raise invalid("Invalid phases: must be a list of objects", label)
        given = _timestamp(p, "start_date", f"{label}[start_date]", at)
        if i == 0:
            if fixed_first is not None and given is not None and given != fixed_first:
                raise invalid("You can not modify the start date of the current phase.",
                              f"{label}[start_date]")
            at = given if given is not None else at
            if at is None:
                raise invalid("Missing required param: phases[0][start_date].",
                              f"{label}[start_date]", code="parameter_missing")
        elif given is not None and given != at:
            raise invalid("The start date of a phase must be the end date of the phase "
                          "before it.", f"{label}[start_date]")
        assert at is not None
        items = _phase_items(sb, get_list(p, "items"), label)
        end = _timestamp(p, "end_date", f"{label}[end_date]", at)
        duration = get_dict(p, "duration")
        if end is not None and duration:
            raise invalid("You may only specify one of these parameters: duration, end_date.",
                          f"{label}[duration]")
        if end is None:
            # Without an end: one billing interval of the phase's prices.
            interval, count = interval_of(items[0][0])
            if duration:
                interval = get_str(duration, "interval", required=True,
                                   param=f"{label}[duration][interval]") or ""
                if interval not in ("day", "week", "month", "year"):
                    raise invalid(f"Invalid {label}[duration][interval]: must be one of day, "
                                  "week, month or year", f"{label}[duration][interval]")
                count = get_int(duration, "interval_count", minimum=1,
                                param=f"{label}[duration][interval_count]") or 1
            end = add_intervals(at, interval, count)
        if end <= at:
            raise invalid("The phase's end_date must be after its start_date.",
                          f"{label}[end_date]")
        behavior = get_str(p, "proration_behavior") or default_proration
        if behavior not in PRORATION:
            raise invalid(f"Invalid {label}[proration_behavior]: must be one of "
                          f"{', '.join(PRORATION)}", f"{label}[proration_behavior]")
        out.append(phase(sb, items, at, end, behavior, get_dict(p, "metadata")))
        at = end
    return out


def _timestamp(p: Obj, name: str, label: str, now: int | None) -> int | None:
    raw = get_str(p, name)
    if raw is None:
        return None
    if raw == "now":
        if now is None:
            raise invalid(f"Invalid {label}: `now` is only allowed for the first phase.", label)
        return now
    return get_int(p, name, param=label)


def _phase_items(sb: Sandbox, raw: list[Any], label: str) -> list[tuple[Obj, int, Obj]]:
    from .subscriptions_api import _recurring_price

    if not raw:
        raise invalid(f"Missing required param: {label}[items].", f"{label}[items]",
                      code="parameter_missing")
    items: list[tuple[Obj, int, Obj]] = []
    for j, it in enumerate(raw):
        where = f"{label}[items][{j}]"
        if not isinstance(it, dict):
            raise invalid("Invalid items: must be a list of objects", where)
        price_id = get_str(it, "price", required=True, param=f"{where}[price]") or ""
        price = _recurring_price(sb, price_id, f"{where}[price]")
        if any(p["id"] == price["id"] for p, _, _ in items):
            raise invalid("Cannot add multiple phase items with the same price.",
                          f"{where}[price]")
        qty = get_int(it, "quantity", param=f"{where}[quantity]", minimum=0)
        if is_metered(price) and qty is not None:
            raise invalid("Quantity should not be specified where usage_type is `metered`. "
                          f"Remove quantity from `{where}`.", f"{where}[quantity]")
        items.append((price, (0 if is_metered(price) else 1) if qty is None else qty,
                      get_dict(it, "metadata")))
    first = items[0][0]
    if any(p["currency"] != first["currency"] or interval_of(p) != interval_of(first)
           for p, _, _ in items):
        raise invalid("All prices in a phase must have the same currency and recurring "
                      "interval.", f"{label}[items]")
    return items


def current_phase(schedule: Obj, at: int) -> Obj | None:
    return next((p for p in schedule["phases"] if p["start_date"] <= at < p["end_date"]),
                None)


def refresh_current(schedule: Obj, at: int) -> None:
    ph = current_phase(schedule, at) if schedule["status"] == "active" else None
    schedule["current_phase"] = ({"end_date": ph["end_date"], "start_date": ph["start_date"]}
                                 if ph else None)


def check_live(schedule: Obj, action: str) -> None:
    if schedule["status"] not in LIVE:
        raise invalid(f"You cannot {action} a subscription schedule that is currently in the "
                      f"`{schedule['status']}` status.")


# --- applying phases ----------------------------------------------------------------------------


def apply_phase(sb: Sandbox, sub: Obj, ph: Obj, at: int) -> None:
    """Make the subscription's items the phase's and merge the phase's metadata into the
    subscription's (a `customer.subscription.updated` when anything changes), prorating by
    the phase's behaviour unless at the period's end."""
    from .subscriptions_api import update

    wanted = {i["price"]: i for i in ph["items"]}
    items: list[Obj] = []
    for item in items_of(sub):
        target = wanted.pop(item["price"]["id"], None)
        if target is None:
            items.append({"id": item["id"], "deleted": "true"})
        elif int(target["quantity"] or 0) != int(item.get("quantity") or 0):
            items.append({"id": item["id"], "quantity": str(target["quantity"])})
    # A metered item has no quantity: its usage bills.
    items = [{"price": p} if i["quantity"] is None else {"price": p, "quantity": str(i["quantity"])}
             for p, i in wanted.items()] + items
    params: Obj = {"metadata": ph["metadata"]} if ph["metadata"] else {}
    if items:
        params["items"] = items
        params["proration_behavior"] = ("none" if at >= period_of(sub)[1]
                                        else ph["proration_behavior"])
    if params:
        update(sb, sub, params)


def start_schedule(sb: Sandbox, schedule: Obj, at: int) -> None:
    """The first phase starts: the schedule's subscription is created with its items."""
    from .subscriptions import start

    customer = sb.get("customer", schedule["customer"])
    first = schedule["phases"][0]
    prices = [(sb.get("price", i["price"]), int(i["quantity"] or 0), i["metadata"])
              for i in first["items"]]
    before = sb.snapshot(schedule)
    schedule["status"] = "active"
    sub = start(sb, customer, prices, trial_end=None, default_pm=None, metadata={},
                off_session=True)
    sub["schedule"] = schedule["id"]
    sb.store.put(sub)
    schedule["subscription"] = sub["id"]
    refresh_current(schedule, at)
    sb.store.put(schedule)
    sb.emit("subscription_schedule.updated", schedule, before)


def release(sb: Sandbox, schedule: Obj, at: int, *, event: str = "released") -> None:
    """The subscription carries on without the schedule."""
    sub = sb.store.get("subscription", schedule["subscription"] or "")
    schedule.update(status="released", released_at=at, released_subscription=schedule[
        "subscription"], subscription=None, current_phase=None)
    sb.store.put(schedule)
    sb.emit(f"subscription_schedule.{event}", schedule)
    if sub is not None:
        before = sb.snapshot(sub)
        sub["schedule"] = None
        sb.store.put(sub)
        sb.emit("customer.subscription.updated", sub, before)


def end_with_subscription(sb: Sandbox, schedule: Obj, at: int, status: str) -> None:
    """The schedule ends and cancels its subscription (`cancel`, or the last phase of an
    `end_behavior=cancel` schedule)."""
    from .subscriptions import cancel_subscription

    sub = sb.store.get("subscription", schedule["subscription"] or "")
    schedule.update(status=status, current_phase=None)
    schedule["canceled_at" if status == "canceled" else "completed_at"] = at
    sb.store.put(schedule)
    if sub is not None and sub["status"] not in ("canceled", "incomplete_expired"):
        cancel_subscription(sb, sub, "cancellation_requested", at)
    sb.emit(f"subscription_schedule.{status}", schedule)


def subscription_ended(sb: Sandbox, sub: Obj, at: int) -> None:
    """A subscription canceled by itself cancels its schedule."""
    schedule = sb.store.get(KIND, sub["schedule"])
    if schedule is None or schedule["status"] not in LIVE:
        return
    schedule.update(status="canceled", canceled_at=at, current_phase=None)
    sb.store.put(schedule)
    sb.emit("subscription_schedule.canceled", schedule)


def _transition(sb: Sandbox, schedule: Obj, at: int) -> None:
    if schedule["status"] == "not_started":
        start_schedule(sb, schedule, at)
        return
    nxt = current_phase(schedule, at)
    if nxt is None:  # the last phase ended
        if schedule["end_behavior"] == "cancel":
            end_with_subscription(sb, schedule, at, "completed")
        else:
            release(sb, schedule, at)
        return
    before = sb.snapshot(schedule)
    sub = sb.store.get("subscription", schedule["subscription"] or "")
    if sub is not None and sub["status"] not in ("canceled", "incomplete_expired"):
        apply_phase(sb, sub, nxt, at)
    refresh_current(schedule, at)
    sb.store.put(schedule)
    sb.emit("subscription_schedule.updated", schedule, before)


@scheduler.source(KIND, scheduler.own_clock)
def schedule_work(sb: Sandbox, schedule: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    """Phase starts and ends; priority 1, before a trial's end (2) or a renewal (3) due at
    the same moment, which then bill the new phase's prices."""
    if schedule["status"] not in LIVE:
        return
    if schedule["status"] == "not_started":
        due = int(schedule["phases"][0]["start_date"])
    else:
        due = int((schedule["current_phase"] or {}).get("end_date")
                  or schedule["phases"][-1]["end_date"])
    yield due, 1, partial(_transition, sb, schedule)
