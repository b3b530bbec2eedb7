"""Usage-based billing: recording usage and reading the current period's (docs/usage.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from plangate.api.deps import Context, CustomerPath, ReadableCustomer, ServerCaller
from plangate.api.idempotency import Idempotent
from plangate.api.schemas import MeterUsageOut, UsageIn, UsageOut, UsageRecordOut
from plangate.services import usage

router = APIRouter(prefix="/v1/customers/{customer_type}/{customer_id}/usage", tags=["usage"])


@router.post("", status_code=201, responses={200: {"model": UsageRecordOut},
                                             201: {"model": UsageRecordOut}})
def record_usage(
    ref: CustomerPath, body: UsageIn, ctx: Context, _: ServerCaller, idem: Idempotent
) -> JSONResponse:
    """Records one usage event; its `event_id` makes a retry count once (200, duplicate)."""
    request = usage.UsageRequest(body.meter, body.quantity, body.event_id, body.user_id,
                                 body.occurred_at)

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        catalog = ctx.catalogs.active(session)
        recorded = usage.record_usage(session, catalog, ref, request, ctx.clock.now(),
                                      ctx.services)
        out = UsageRecordOut(
            id=recorded.id, meter=recorded.meter_id, quantity=recorded.quantity,
            event_id=recorded.event_id, user_id=recorded.user_id,
            occurred_at=recorded.occurred_at, duplicate=recorded.duplicate)
        return (200 if recorded.duplicate else 201), out.model_dump(mode="json")

    return idem.run(effect)


@router.get("", response_model=UsageOut)
def get_usage(ref: ReadableCustomer, ctx: Context) -> UsageOut:
    """The current period's usage of each catalog meter."""
    with ctx.db.read() as session:
        catalog = ctx.catalogs.active(session)
        meters = usage.current_usage(session, catalog, ref, ctx.clock.now())
    return UsageOut(
        customer_type=ref.type, customer_id=ref.id,
        meters=[MeterUsageOut(meter=m.meter_id, name=m.name,
                              aggregation=m.aggregation,
                              quantity=m.quantity, period_start=m.period_start,
                              period_end=m.period_end, members=m.by_member) for m in meters])
