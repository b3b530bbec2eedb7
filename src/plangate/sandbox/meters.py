"""Billing meters and meter events: what usage-based prices bill from.

A meter aggregates the events sent under its `event_name` per customer (`sum` of the values,
`count` of the events, or the `last` value); `aggregate` answers that for a period, which
`usage` uses to bill metered prices at a renewal. Meter events are deduplicated by their
`identifier` (Stripe keeps them unique for at least 24 hours; the sandbox for its lifetime).
Meters have no v1 snapshot events at Stripe, so none are emitted.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    StripeError,
    get_dict,
    get_enum,
    get_int,
    get_str,
    invalid,
    missing_param,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()

FORMULAS = ("count", "last", "sum")
MAX_PAST = 35 * 86400  # Stripe accepts events up to 35 days old ...
MAX_FUTURE = 300  # ... and up to 5 minutes ahead.
_EVENT_KIND = "billing.meter_event"


@router.post("/v1/billing/meters", "billing.MeterCreateParams",
             ("customer_mapping.event_payload_key", "customer_mapping.type",
              "default_aggregation.formula", "display_name", "event_name",
              "value_settings.event_payload_key"))
def create_meter(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    display_name = get_str(p, "display_name", required=True)
    event_name = get_str(p, "event_name", required=True)
    aggregation = get_dict(p, "default_aggregation")
    if not aggregation:
        raise missing_param("default_aggregation")
    formula = get_enum(aggregation, "formula", FORMULAS, required=True,
                       param="default_aggregation[formula]")
    mapping_in = get_dict(p, "customer_mapping")
    mapping: dict[str, str | None] = {"event_payload_key": "stripe_customer_id",
                                      "type": "by_id"}
    if mapping_in:
        mapping = {
            "event_payload_key": get_str(mapping_in, "event_payload_key", required=True,
                                         param="customer_mapping[event_payload_key]"),
            "type": get_enum(mapping_in, "type", ("by_id",), required=True,
                             param="customer_mapping[type]")}
    value_in = get_dict(p, "value_settings")
    value_key = "value"
    if value_in:
        value_key = get_str(value_in, "event_payload_key", required=True,
                            param="value_settings[event_payload_key]") or "value"
    if active_meter(sb, event_name or "") is not None:
        raise invalid(f"An active meter with event_name `{event_name}` already exists.",
                      "event_name", code="resource_already_exists")
    now = sb.real_now()
    meter: Obj = {
        "id": new_id("mtr"), "object": "billing.meter", "created": now,
        "customer_mapping": mapping, "default_aggregation": {"formula": formula},
        "display_name": display_name, "event_name": event_name, "event_time_window": None,
        "livemode": False, "status": "active", "status_transitions": {"deactivated_at": None},
        "updated": now, "value_settings": {"event_payload_key": value_key},
    }
    sb.store.put(meter)
    return meter


@router.get("/v1/billing/meters/{id}", "billing.MeterRetrieveParams")
def retrieve_meter(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("billing.meter", id, label="billing.meter")


@router.post("/v1/billing/meters/{id}", "billing.MeterUpdateParams", ("display_name",))
def update_meter(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    meter = retrieve_meter(sb, req, id)
    name = get_str(req.params, "display_name")
    if name is not None:
        meter.update(display_name=name, updated=sb.real_now())
        sb.store.put(meter)
    return meter


@router.get("/v1/billing/meters", "billing.MeterListParams", (*PAGE, "status"))
def list_meters(sb: Sandbox, req: ApiRequest) -> Obj:
    status = get_enum(req.params, "status", ("active", "inactive"))
    items = [m for m in sb.store.all("billing.meter") if status in (None, m["status"])]
    return paginate(items, req.params, "/v1/billing/meters")


def _set_status(sb: Sandbox, id_: str, status: str) -> Obj:
    meter = sb.get("billing.meter", id_, label="billing.meter")
    if meter["status"] == status:
        raise invalid(f"This meter is already {status}.", code="meter_status_unchanged")
    if status == "active" and active_meter(sb, meter["event_name"]) is not None:
        raise invalid(f"An active meter with event_name `{meter['event_name']}` already "
                      "exists.", "event_name", code="resource_already_exists")
    now = sb.real_now()
    meter.update(status=status, updated=now)
    meter["status_transitions"]["deactivated_at"] = now if status == "inactive" else None
    sb.store.put(meter)
    return meter


@router.post("/v1/billing/meters/{id}/deactivate", "billing.MeterDeactivateParams")
def deactivate_meter(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return _set_status(sb, id, "inactive")


@router.post("/v1/billing/meters/{id}/reactivate", "billing.MeterReactivateParams")
def reactivate_meter(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return _set_status(sb, id, "active")


def active_meter(sb: Sandbox, event_name: str) -> Obj | None:
    for meter in sb.store.all("billing.meter"):
        if meter["event_name"] == event_name and meter["status"] == "active":
            return meter
    return None


@router.post("/v1/billing/meter_events", "billing.MeterEventCreateParams",
             ("event_name", "identifier", "payload", "timestamp"))
def create_meter_event(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    event_name = get_str(p, "event_name", required=True) or ""
    payload = get_dict(p, "payload")
    if not payload:
        raise missing_param("payload")
    meter = active_meter(sb, event_name)
    if meter is None:
        raise invalid(f"No active meter was found with event_name `{event_name}`.",
                      "event_name", code="resource_missing")
    customer_key = meter["customer_mapping"]["event_payload_key"]
    cus_id = get_str(payload, customer_key, param=f"payload[{customer_key}]")
    if cus_id is None:
        raise invalid(f"The payload has no `{customer_key}`, which the meter maps events to "
                      "customers with.", f"payload[{customer_key}]", code="parameter_missing")
    customer = sb.get("customer", cus_id, param=f"payload[{customer_key}]")
    value_key = meter["value_settings"]["event_payload_key"]
    value = _value(payload, value_key, meter["default_aggregation"]["formula"])
    now = sb.now(customer)
    timestamp = get_int(p, "timestamp")
    if timestamp is None:
        timestamp = now
    elif not now - MAX_PAST <= timestamp <= now + MAX_FUTURE:
        raise invalid("The timestamp must be within the past 35 days and at most 5 minutes "
                      "in the future.", "timestamp", code="timestamp_out_of_range")
    identifier = get_str(p, "identifier") or str(uuid.uuid4())
    if sb.store.get(_EVENT_KIND, _event_key(identifier)) is not None:
        raise StripeError(400, "invalid_request_error",
                          f"An event already exists with identifier {identifier}.",
                          code="duplicate_meter_event", param="identifier")
    event: Obj = {
        "id": _event_key(identifier), "object": _EVENT_KIND, "created": sb.real_now(),
        "event_name": event_name, "identifier": identifier, "livemode": False,
        "payload": {k: str(v) for k, v in payload.items()}, "timestamp": timestamp,
        "_meter": meter["id"], "_customer": customer["id"], "_value": value,
    }
    sb.store.put(event)
    out = dict(event)
    del out["id"]  # a meter event has no id of its own; the store keys it by identifier
    return out


def _event_key(identifier: str) -> str:
    return "mtrevt_" + hashlib.sha256(identifier.encode()).hexdigest()[:32]


def _value(payload: Obj, key: str, formula: str) -> int:
    raw = payload.get(key)
    if raw is None or raw == "":
        if formula == "count":
            return 1
        raise invalid(f"The payload has no `{key}`, the meter's value key.", f"payload[{key}]",
                      code="parameter_missing")
    try:
        return int(str(raw))
    except ValueError:
        raise invalid(f"Invalid payload[{key}]: the sandbox takes whole numbers.",
                      f"payload[{key}]") from None


def aggregate(sb: Sandbox, meter: Obj, customer_id: str, start: int, end: int) -> int:
    """The meter's value for the customer's events with `start <= timestamp < end`."""
    events = [e for e in sb.store.all(_EVENT_KIND)
              if e["_meter"] == meter["id"] and e["_customer"] == customer_id
              and start <= int(e["timestamp"]) < end]
    formula = meter["default_aggregation"]["formula"]
    if formula == "count":
        return len(events)
    if formula == "last":
        if not events:
            return 0
        latest = max(events, key=lambda e: (int(e["timestamp"]), e["_seq"]))
        return int(latest["_value"])
    return sum(int(e["_value"]) for e in events)


_WINDOWS = {"hour": 3600, "day": 86400}


@router.get("/v1/billing/meters/{id}/event_summaries",
            "billing.MeterListEventSummariesParams",
            (*PAGE, "customer", "end_time", "start_time", "value_grouping_window"))
def event_summaries(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    p = req.params
    meter = sb.get("billing.meter", id, label="billing.meter")
    cus_id = get_str(p, "customer", required=True) or ""
    customer = sb.get("customer", cus_id, param="customer")
    start = get_int(p, "start_time", required=True)
    end = get_int(p, "end_time", required=True)
    assert start is not None and end is not None
    window = get_enum(p, "value_grouping_window", tuple(_WINDOWS))
    step = _WINDOWS[window] if window else 60
    for name, ts in (("start_time", start), ("end_time", end)):
        if ts % step:
            raise invalid(f"Invalid {name}: it must be aligned to the "
                          f"{window or 'minute'} boundary.", name)
    if end <= start:
        raise invalid("end_time must be after start_time.", "end_time")
    bounds = [(start, end)] if window is None else [
        (t, min(t + step, end)) for t in range(start, end, step)]
    summaries = []
    for lo, hi in reversed(bounds):
        digest = hashlib.sha256(f"{meter['id']}:{customer['id']}:{lo}:{hi}".encode())
        summaries.append({
            "id": "mtrusg_" + digest.hexdigest()[:24], "object": "billing.meter_event_summary",
            "aggregated_value": aggregate(sb, meter, customer["id"], lo, hi),
            "end_time": hi, "livemode": False, "meter": meter["id"], "start_time": lo})
    return paginate(summaries, p, f"/v1/billing/meters/{meter['id']}/event_summaries")
