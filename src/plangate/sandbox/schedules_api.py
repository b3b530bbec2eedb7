"""REST routes for subscription schedules (the engine is `schedules`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import schedules as sch
from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    apply_metadata,
    get_bool,
    get_enum,
    get_list,
    get_str,
    invalid,
    match_created,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
END_BEHAVIORS = ("release", "cancel")
_PHASE = ("phases.end_date", "phases.items.metadata", "phases.items.price",
          "phases.items.quantity", "phases.duration", "phases.metadata",
          "phases.proration_behavior")


@router.post("/v1/subscription_schedules", "SubscriptionScheduleCreateParams",
              ("customer", "end_behavior", "from_subscription", "metadata", "start_date",
               *_PHASE))
def create_schedule(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    from_sub = get_str(p, "from_subscription")
    end_behavior = get_enum(p, "end_behavior", END_BEHAVIORS) or "release"
    if from_sub is not None:
        for other in ("customer", "phases", "start_date"):
            if other in p:
                raise invalid(f"You cannot set `{other}` if `from_subscription` is set.",
                              other)
        return _from_subscription(sb, sb.get("subscription", from_sub,
                                             param="from_subscription"), p, end_behavior)
    cus_id = get_str(p, "customer")
    if cus_id is None:
        raise invalid("Missing required param: customer.", "customer",
                      code="parameter_missing")
    customer = sb.get("customer", cus_id, param="customer")
    now = sb.now(customer)
    start = now if get_str(p, "start_date") in (None, "now") else sch._timestamp(
        p, "start_date", "start_date", now)
    assert start is not None
    phases = sch.parse_phases(sb, get_list(p, "phases"), start, "create_prorations")
    schedule = sch.new_schedule(sb, customer, now)
    schedule.update(phases=phases, end_behavior=end_behavior)
    apply_metadata(schedule, p)
    sb.store.put(schedule)
    sb.emit("subscription_schedule.created", schedule)
    if phases[0]["start_date"] <= now:
        sch.start_schedule(sb, schedule, now)
    return schedule


def _from_subscription(sb: Sandbox, sub: Obj, p: dict[str, object], end_behavior: str) -> Obj:
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid(f"The subscription {sub['id']} is {sub['status']} and cannot be "
                      "attached to a schedule.", "from_subscription")
    if sub.get("schedule"):
        raise invalid("You cannot migrate a subscription that is already attached to a "
                      f"schedule: `{sub['schedule']}`.", "from_subscription")
    customer = sb.get("customer", sub["customer"])
    now = sb.now(sub)
    schedule = sch.new_schedule(sb, customer, now)
    schedule.update(phases=[sch.phase_from_subscription(sb, sub)], status="active",
                    subscription=sub["id"], end_behavior=end_behavior)
    apply_metadata(schedule, p)
    sch.refresh_current(schedule, now)
    sb.store.put(schedule)
    sb.emit("subscription_schedule.created", schedule)
    before = sb.snapshot(sub)
    sub["schedule"] = schedule["id"]
    sb.store.put(sub)
    sb.emit("customer.subscription.updated", sub, before)
    return schedule


@router.get("/v1/subscription_schedules/{id}", "SubscriptionScheduleRetrieveParams")
def retrieve_schedule(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get(sch.KIND, id, "subscription_schedule")


@router.post("/v1/subscription_schedules/{id}", "SubscriptionScheduleUpdateParams",
              ("end_behavior", "metadata", "proration_behavior", "phases.start_date", *_PHASE))
def update_schedule(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    schedule = sb.get(sch.KIND, id, "subscription_schedule")
    sch.check_live(schedule, "update")
    p = req.params
    before = sb.snapshot(schedule)
    now = sb.now(schedule)
    behavior = get_enum(p, "proration_behavior", sch.PRORATION) or "create_prorations"
    end_behavior = get_enum(p, "end_behavior", END_BEHAVIORS)
    if "phases" in p:
        current = sch.current_phase(schedule, now) if schedule["status"] == "active" else None
        start = current["start_date"] if current else schedule["phases"][0]["start_date"]
        phases = sch.parse_phases(sb, get_list(p, "phases"), start, behavior,
                                  fixed_first=current["start_date"] if current else None)
        if schedule["status"] == "active" and sch.current_phase({"phases": phases}, now) \
                is None:
            raise invalid("The phases must cover the current time: the current phase cannot "
                          "end in the past.", "phases")
        schedule["phases"] = phases
    if end_behavior is not None:
        schedule["end_behavior"] = end_behavior
    apply_metadata(schedule, p)
    sch.refresh_current(schedule, now)
    sb.store.put(schedule)
    sb.emit("subscription_schedule.updated", schedule, before)
    sub = sb.store.get("subscription", schedule["subscription"] or "")
    live = sch.current_phase(schedule, now) if sub is not None else None
    if sub is not None and live is not None:
        # A change to the current phase applies to the subscription now.
        live = {**live, "proration_behavior": behavior}
        sch.apply_phase(sb, sub, live, now)
    return schedule


@router.get("/v1/subscription_schedules", "SubscriptionScheduleListParams",
              (*PAGE, "created", "customer", "scheduled"))
def list_schedules(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    cus = get_str(p, "customer")
    scheduled = get_bool(p, "scheduled")

    def wanted(s: Obj) -> bool:
        if cus is not None and s["customer"] != cus:
            return False
        if scheduled is not None and (s["status"] == "not_started") != scheduled:
            return False
        return match_created(s, p)

    return paginate([s for s in sb.store.all(sch.KIND) if wanted(s)], p,
                    "/v1/subscription_schedules")


@router.post("/v1/subscription_schedules/{id}/release", "SubscriptionScheduleReleaseParams")
def release_schedule(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    schedule = sb.get(sch.KIND, id, "subscription_schedule")
    sch.check_live(schedule, "release")
    sch.release(sb, schedule, sb.now(schedule))
    return schedule


@router.post("/v1/subscription_schedules/{id}/cancel", "SubscriptionScheduleCancelParams")
def cancel_schedule(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    schedule = sb.get(sch.KIND, id, "subscription_schedule")
    sch.check_live(schedule, "cancel")
    sch.end_with_subscription(sb, schedule, sb.now(schedule), "canceled")
    return schedule
