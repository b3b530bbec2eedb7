"""Managing a purchase: switch plans, cancel (through ``DELETE {c}/products/{id}`` in
routes/products.py), resume. A client may manage itself and the teams it administers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from plangate.api.context import AppContext
from plangate.api.deps import Caller, Context, ManageableCustomer, Principal, ProductId
from plangate.api.gateway_writes import run_gateway_write, scope
from plangate.api.idempotency import Idempotency, Idempotent
from plangate.api.schemas import (
    CancelledOut,
    PlanChangeOut,
    SwitchIn,
)
from plangate.api.views import owned_products
from plangate.api.visibility import visible_ownerships
from plangate.errors import PermissionDenied
from plangate.services import purchases
from plangate.services.entitlements import ownership
from plangate.services.entitlements.customers import CustomerRef

router = APIRouter(
    prefix="/v1/customers/{customer_type}/{customer_id}/products", tags=["purchases"]
)


def _deps(ctx: AppContext) -> purchases.Deps:
    return purchases.Deps(ctx.db, ctx.gateway, ctx.catalogs)


# One purchase operation: test mode passes the request's session, Stripe mode None.
Operation = Callable[[purchases.Deps, Session | None, datetime], dict[str, Any]]
# Builds the answer from the operation's result, in a session that sees plangate's state.
Shape = Callable[[Session, dict[str, Any]], dict[str, Any]]


def _answer_as_is(_session: Session, body: dict[str, Any]) -> dict[str, Any]:
    return body


def _gateway_or_test(
    ctx: AppContext, idem: Idempotency, run: Operation, shape: Shape = _answer_as_is
) -> JSONResponse:
    """Runs a purchase operation: in the request's transaction in test mode, else as Stripe
    writes outside any transaction (api/gateway_writes.py)."""
    deps = _deps(ctx)
    if deps.test_mode:

        def effect(session: Session) -> tuple[int, dict[str, Any]]:
            return 200, shape(session, run(deps, session, ctx.clock.now()))

        return idem.run(effect)

    def write() -> dict[str, Any]:
        body = run(deps, None, ctx.clock.now())
        with ctx.db.read() as session:
            return shape(session, body)

    return run_gateway_write(idem, write)


@router.post("/switch", response_model=PlanChangeOut)
def switch(
    ref: ManageableCustomer, body: SwitchIn, ctx: Context, caller: Caller, idem: Idempotent
) -> JSONResponse:
    """Switch a subscription to another product of its line (or another price): an upgrade
    takes effect now with a prorated invoice charged at once; a downgrade at the period end.
    On the stripe gateway, plangate's state follows when Stripe's webhooks are synced."""
    request = purchases.SwitchRequest(
        ref=ref,
        from_product_id=body.from_product_id,
        to_product_id=body.to_product_id,
        price_id=body.price_id,
        client=not caller.is_server,
        idempotency_scope=scope(idem),
    )
    return _gateway_or_test(
        ctx, idem, lambda deps, session, now: purchases.switch_plan(deps, session, request, now)
    )


def _products_with(ctx: AppContext, caller: Principal, ref: CustomerRef) -> Any:
    def shape(session: Session, body: dict[str, Any]) -> dict[str, Any]:
        live = visible_ownerships(caller, ownership.live_ownerships(session, ref))
        return {
            "data": [
                p.model_dump(mode="json")
                for p in owned_products(ctx, live, ctx.catalogs.active(session))
            ],
            "cancellation": body,
        }

    return shape


def _check_visible(ctx: AppContext, caller: Principal, ref: CustomerRef, product_id: str) -> None:
    # A client never sees server-only products, so it cannot cancel one either.
    if caller.is_server:
        return
    with ctx.db.read() as session:
        current = purchases.find_subscription(ownership.live_ownerships(session, ref), product_id)
    if current is not None and ownership.product_of(current).server_only:
        raise PermissionDenied("server_only", "this product is managed by the server")


def holds_subscription(ctx: AppContext, ref: CustomerRef, product_id: str) -> bool:
    return purchases.holds_subscription(_deps(ctx), ref, product_id)


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
    return _gateway_or_test(
        ctx,
        idem,
        lambda deps, session, now: purchases.cancel(deps, session, request, now),
        _products_with(ctx, caller, ref),
    )


@router.post("/{product_id}/resume", response_model=CancelledOut)
def resume(
    ref: ManageableCustomer, product_id: ProductId, ctx: Context, caller: Caller, idem: Idempotent
) -> JSONResponse:
    """Take back a cancellation at the period end: the subscription renews again."""
    _check_visible(ctx, caller, ref, product_id)
    request = purchases.CancelRequest(ref, product_id, False, scope(idem))
    return _gateway_or_test(
        ctx,
        idem,
        lambda deps, session, now: purchases.resume(deps, session, request, now),
        _products_with(ctx, caller, ref),
    )
