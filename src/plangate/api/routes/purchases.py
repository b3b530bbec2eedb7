"""Managing a purchase: switch plans, cancel (through ``DELETE {c}/products/{id}`` in
routes/products.py), resume. A client may manage itself and the teams it administers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from plangate.api.context import AppContext
from plangate.api.deps import Caller, Context, ManageableCustomer, Principal, ProductId
from plangate.api.gateway_writes import RecordedWrite, Shape, scope
from plangate.api.idempotency import Idempotency, Idempotent
from plangate.api.schemas import (
    CancelledOut,
    PlanChangeOut,
    PlanChangePreviewOut,
    SwitchIn,
)
from plangate.api.views import products_out
from plangate.errors import PermissionDenied
from plangate.services import purchases
from plangate.services.entitlements import owned
from plangate.services.entitlements.customers import CustomerRef

router = APIRouter(
    prefix="/v1/customers/{customer_type}/{customer_id}/products", tags=["purchases"]
)


@router.post("/switch", response_model=PlanChangeOut)
def switch(
    ref: ManageableCustomer, body: SwitchIn, ctx: Context, caller: Caller, idem: Idempotent
) -> JSONResponse:
    """Switch a subscription to another product of its line (or another price): an upgrade
    takes effect now with a prorated invoice charged at once; a downgrade at the period end.
    On the stripe gateway, plangate's state follows when Stripe's webhooks are synced."""
    request = _switch_request(ref, body, caller, scope(idem))
    return ctx.purchases.switch(RecordedWrite(idem), request, ctx.clock.now())


@router.post("/switch/preview", response_model=PlanChangePreviewOut)
def switch_preview(
    ref: ManageableCustomer, body: SwitchIn, ctx: Context, caller: Caller
) -> dict[str, Any]:
    """What ``POST .../products/switch`` with this body would do and cost: the amount due
    now and the next invoice, in the currency's minor units, from the purchase backend's
    invoice preview. Changes nothing."""
    request = _switch_request(ref, body, caller, None)
    return ctx.purchases.preview_switch(request, ctx.clock.now())


def _switch_request(
    ref: CustomerRef, body: SwitchIn, caller: Principal, idempotency_scope: str | None
) -> purchases.SwitchRequest:
    return purchases.SwitchRequest(
        ref=ref,
        from_product_id=body.from_product_id,
        to_product_id=body.to_product_id,
        price_id=body.price_id,
        client=not caller.is_server,
        idempotency_scope=idempotency_scope,
    )


def _products_with(ctx: AppContext, caller: Principal, ref: CustomerRef) -> Shape:
    def shape(session: Session, body: dict[str, Any]) -> dict[str, Any]:
        catalog = ctx.catalogs.active(session)
        live = owned.live_views(session, ref, catalog, server=caller.is_server)
        data = [p.model_dump(mode="json") for p in products_out(live)]
        return {"data": data, "cancellation": body}

    return shape


def _check_visible(ctx: AppContext, caller: Principal, ref: CustomerRef, product_id: str) -> None:
    # A client never sees server-only products, so it cannot cancel one either.
    if caller.is_server:
        return
    if purchases.is_server_only_subscription(ctx.db, ref, product_id):
        raise PermissionDenied("server_only", "this product is managed by the server")


def holds_subscription(ctx: AppContext, ref: CustomerRef, product_id: str) -> bool:
    return purchases.holds_subscription(ctx.db, ref, product_id)


def cancel_subscription(
    ctx: AppContext,
    caller: Principal,
    ref: CustomerRef,
    product_id: str,
    immediately: bool,
    idem: Idempotency,
) -> JSONResponse:
    """``DELETE {c}/products/{product_id}`` for a subscription (routes/products.py)."""
    _check_visible(ctx, caller, ref, product_id)
    request = purchases.CancelRequest(ref, product_id, immediately, scope(idem))
    recorder = RecordedWrite(idem, shape=_products_with(ctx, caller, ref))
    return ctx.purchases.cancel(recorder, request, ctx.clock.now())


@router.post("/{product_id}/resume", response_model=CancelledOut)
def resume(
    ref: ManageableCustomer, product_id: ProductId, ctx: Context, caller: Caller, idem: Idempotent
) -> JSONResponse:
    """Take back a cancellation at the period end: the subscription renews again."""
    return resume_subscription(ctx, caller, ref, product_id, idem)


def resume_subscription(
    ctx: AppContext, caller: Principal, ref: CustomerRef, product_id: str, idem: Idempotency
) -> JSONResponse:
    """``POST {c}/products/{product_id}/resume`` (also the dashboard's Resume)."""
    _check_visible(ctx, caller, ref, product_id)
    request = purchases.CancelRequest(ref, product_id, False, scope(idem))
    recorder = RecordedWrite(idem, shape=_products_with(ctx, caller, ref))
    return ctx.purchases.resume(recorder, request, ctx.clock.now())
