"""The admin API (server key): every customer, ownership, Stripe event and outbound webhook
delivery, searchable and paged; a retry for either; the audit log. See docs/dashboard.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from plangate.api.admin_schemas import (
    AdminCustomerList,
    AdminOwnershipList,
    AuditLog,
    BalanceOut,
    FiguresOut,
    MrrHistoryOut,
    OwnershipSource,
    PayoutDetailOut,
    PayoutList,
    StripeEventList,
    StripeEventRetried,
    WebhookDeliveryList,
    WebhookDeliveryRetried,
)
from plangate.api.deps import Context, ServerCaller
from plangate.api.idempotency import Idempotent
from plangate.services.admin import customers, events, figures, mrr_history, ownerships, payouts
from plangate.services.admin.paging import MAX_PAGE
from plangate.services.audit import list_entries
from plangate.services.entitlements.customers import customer_ref

router = APIRouter(prefix="/v1/admin", tags=["admin"])
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=600)]
# Delivery ids are 32-bit integers in the database.
Days = Annotated[int, Query(ge=1, le=figures.MAX_DAYS)]
DeliveryId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/customers", response_model=AdminCustomerList)
def list_customers(
    ctx: Context,
    _: ServerCaller,
    q: Annotated[str | None, Query(max_length=200)] = None,
    customer_type: Annotated[str | None, Query(max_length=8)] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    page, next_cursor = customers.list_customers(
        ctx.db, query=q, customer_type=customer_type, limit=limit, cursor=cursor
    )
    return {"data": page, "next_cursor": next_cursor}


@router.get("/ownerships", response_model=AdminOwnershipList)
def list_ownerships(
    ctx: Context,
    _: ServerCaller,
    customer_type: Annotated[str | None, Query(max_length=8)] = None,
    customer_id: Annotated[str | None, Query(max_length=255)] = None,
    product_id: Annotated[str | None, Query(max_length=64)] = None,
    line_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=24)] = None,
    source: Annotated[OwnershipSource | None, Query()] = None,
    trial: bool | None = None,
    cancel_at_period_end: bool | None = None,
    ended: Annotated[bool | None, Query(description="omit for both")] = False,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    customer = None
    if customer_type is not None or customer_id is not None:
        customer = customer_ref(customer_type or "", customer_id or "")
    where = ownerships.OwnershipFilter(
        customer=customer,
        product_id=product_id,
        line_id=line_id,
        status=status,
        source=source,
        trial=trial,
        cancel_at_period_end=cancel_at_period_end,
        ended=ended,
    )
    page, next_cursor = ownerships.list_ownerships(ctx.db, where, limit=limit, cursor=cursor)
    return {"data": page, "next_cursor": next_cursor}


@router.get("/stripe-events", response_model=StripeEventList)
def list_stripe_events(
    ctx: Context,
    _: ServerCaller,
    status: Annotated[str | None, Query(max_length=16)] = None,
    type: Annotated[str | None, Query(max_length=100)] = None,  # noqa: A002 - Stripe's name
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    page, next_cursor = events.list_events(
        ctx.db, status=status, type_=type, limit=limit, cursor=cursor
    )
    return {"data": page, "next_cursor": next_cursor}


@router.post("/stripe-events/{event_id}/retry", response_model=StripeEventRetried)
def retry_stripe_event(
    event_id: Annotated[str, Path(max_length=255)],
    ctx: Context,
    caller: ServerCaller,
    idem: Idempotent,
) -> JSONResponse:
    """Requeues the event in the same transaction as its audit entry."""

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        body = events.retry_event(session, event_id, actor=caller.name, now=ctx.clock.now())
        return 200, body

    return idem.run(effect)


@router.get("/webhook-deliveries", response_model=WebhookDeliveryList)
def list_webhook_deliveries(
    ctx: Context,
    _: ServerCaller,
    status: Annotated[str | None, Query(max_length=16)] = None,
    endpoint: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    page, next_cursor = events.list_webhook_deliveries(
        ctx.db, status=status, endpoint_id=endpoint, limit=limit, cursor=cursor
    )
    return {"data": page, "next_cursor": next_cursor}


@router.post("/webhook-deliveries/{delivery_id}/retry", response_model=WebhookDeliveryRetried)
def retry_webhook_delivery(
    delivery_id: DeliveryId,
    ctx: Context,
    caller: ServerCaller,
    idem: Idempotent,
) -> JSONResponse:
    """Restarts the delivery's schedule in the same transaction as its audit entry."""

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        body = events.retry_webhook_delivery(
            session, delivery_id, actor=caller.name, now=ctx.clock.now()
        )
        return 200, body

    return idem.run(effect)


@router.get("/audit-log", response_model=AuditLog)
def audit_log(
    ctx: Context,
    _: ServerCaller,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target: Annotated[str | None, Query(max_length=600)] = None,
    actor: Annotated[str | None, Query(max_length=330)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    page, next_cursor = list_entries(
        ctx.db, target_type=target_type, target=target, actor=actor, limit=limit, cursor=cursor
    )
    return {"data": page, "next_cursor": next_cursor}


@router.get("/figures", response_model=FiguresOut)
def business_figures(
    ctx: Context,
    _: ServerCaller,
    days: Days = 30,
) -> dict[str, Any]:
    return figures.compute_figures(ctx.db, ctx.clock.now(), days=days).to_dict()


@router.get("/figures/mrr-history", response_model=MrrHistoryOut)
def mrr_history_per_day(ctx: Context, _: ServerCaller, days: Days = 30) -> dict[str, Any]:
    now = ctx.clock.now()
    series = mrr_history.mrr_per_day(ctx.db, now, days=days)
    return {
        "as_of": now,
        "mrr_per_day": [
            {"currency": currency, "days": [
                {"date": d.day.isoformat(), "mrr": d.mrr, "mrr_decimal": d.mrr_decimal}
                for d in points
            ]}
            for currency, points in series.items()
        ],
    }


@router.get("/balance", response_model=BalanceOut)
def balance(ctx: Context, _: ServerCaller) -> dict[str, Any]:
    return payouts.read_balance(ctx.gateway)


@router.get("/payouts", response_model=PayoutList)
def list_payouts(ctx: Context, _: ServerCaller, limit: Limit = 20,
                 cursor: Cursor = None) -> dict[str, Any]:
    page, next_cursor = payouts.list_payouts(ctx.gateway, limit=limit, cursor=cursor)
    return {"data": [p.to_dict() for p in page], "next_cursor": next_cursor}


@router.get("/payouts/{payout_id}", response_model=PayoutDetailOut)
def payout(
    payout_id: Annotated[str, Path(max_length=255)], ctx: Context, _: ServerCaller
) -> dict[str, Any]:
    return payouts.read_payout(ctx.gateway, payout_id)
