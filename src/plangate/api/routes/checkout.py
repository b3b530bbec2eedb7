"""Checkout sessions: create one (server, or a client for itself / a team it administers) and
poll one (the hosted success page; never grants)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from plangate.api.checkout_schemas import CheckoutSessionIn
from plangate.api.context import AppContext
from plangate.api.deps import Caller, Context, Principal, authenticate, authorize_customer
from plangate.api.gateway_writes import run_gateway_write
from plangate.api.idempotency import Idempotent
from plangate.api.schemas import CheckoutSessionCreated, CheckoutSessionOut
from plangate.errors import PlangateError
from plangate.services.commerce.checkout import CheckoutRequest, Deps
from plangate.services.commerce.checkout_status import CheckoutStatus, checkout_status
from plangate.services.entitlements.customers import customer_ref
from plangate.services.stripe_sync.sync import SyncContext

router = APIRouter(prefix="/v1/checkout-sessions", tags=["checkout"])


def _deps(ctx: AppContext) -> Deps:
    return Deps(ctx.db, ctx.gateway, ctx.catalogs, ctx.settings)


@router.post("", status_code=201, response_model=CheckoutSessionCreated)
def create(body: CheckoutSessionIn, ctx: Context, caller: Caller, idem: Idempotent) -> JSONResponse:
    """A Stripe Checkout Session for one product. Paying it grants the product through
    Stripe's webhooks; the response's `url` is where to send the customer."""
    ref = customer_ref(body.customer_type, body.customer_id)
    authorize_customer(ctx, caller, ref, manage=True)
    key = None
    if idem.key is not None:
        key = hashlib.sha256(f"{caller.name}\x00{idem.key}".encode()).hexdigest()
    request = CheckoutRequest(
        ref=ref,
        product_id=body.product_id,
        price_id=body.price_id,
        currency=body.currency,
        quantity=body.quantity,
        success_url=body.success_url,
        cancel_url=body.cancel_url,
        client=not caller.is_server,
        idempotency_key=key,
        promotion_code=body.promotion_code,
        allow_promotion_codes=body.allow_promotion_codes,
    )

    def write() -> dict[str, Any]:
        created = ctx.purchases.checkout(request, ctx.clock.now())
        answer = CheckoutSessionCreated(
            id=created.id, url=created.url, expires_at=created.expires_at
        )
        return answer.model_dump(mode="json")

    # A recorded answer is replayed first; otherwise the Stripe session is created (or, on a
    # retry after a crash, replayed by Stripe) before the answer is recorded: no database
    # transaction is held across Stripe calls.
    return run_gateway_write(idem, write, status=201)


async def _optional_caller(
    ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> Principal | None:
    if authorization is None:
        return None
    return await authenticate(ctx, authorization)


def _status(ctx: AppContext, session_id: str) -> CheckoutStatus:
    """With Stripe, a session not fulfilled yet is synced now (at most once at a time and
    once per interval per session): a customer back from paying is not kept waiting behind
    the webhook queue (services/stripe_sync/on_return.py)."""
    deps, now = _deps(ctx), ctx.clock.now()
    if not ctx.purchases.fulfils_on_return:
        return checkout_status(deps, session_id, now)
    status = checkout_status(deps, session_id, now, ask_stripe=False)
    if status.fulfilled or status.status == "expired":
        return status
    sync = SyncContext(ctx.db, ctx.gateway, ctx.catalogs, ctx.clock,
                       dispute_policy=ctx.settings.dispute_policy)
    if ctx.return_syncs.sync(sync, session_id):
        status = checkout_status(deps, session_id, now, ask_stripe=False)
    return status


@router.get("/{session_id}", response_model=CheckoutSessionOut)
async def read(
    session_id: str, ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> CheckoutSessionOut:
    """The session's status and whether its purchase is fulfilled. Works without credentials
    (the hosted success page polls it); the customer is shown only to a caller that may read
    that customer."""
    caller = await _optional_caller(ctx, authorization)
    status = await run_in_threadpool(_status, ctx, session_id)
    visible = False
    if caller is not None:
        try:
            await run_in_threadpool(
                authorize_customer,
                ctx,
                caller,
                customer_ref(status.customer_type, status.customer_id),
                manage=False,
            )
            visible = True
        except PlangateError:
            visible = False
    return CheckoutSessionOut(
        id=status.id,
        status=status.status,
        fulfilled=status.fulfilled,
        product_id=status.product_id,
        customer_type=status.customer_type if visible else None,
        customer_id=status.customer_id if visible else None,
    )
