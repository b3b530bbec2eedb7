"""The dashboard's actions on a customer: grant, revoke or cancel, adjust an item, refund.

Each goes through the service call the API route makes, under the Idempotency-Key the form
was rendered with (a double submission is one action), and writes an audit entry: in the
action's own transaction where plangate alone acts, right after the gateway answered where
Stripe acts (a refund)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.api.deps import Principal
from plangate.api.gateway_writes import RecordedWrite, scope
from plangate.api.idempotency import Idempotency
from plangate.api.routes import purchases as purchase_routes
from plangate.errors import InvalidRequest, NotFound, PlangateError
from plangate.services.audit import record_action
from plangate.services.commerce import refunds
from plangate.services.entitlements import checks, owned, ownership
from plangate.services.entitlements.customers import CustomerRef, customer_ref
from plangate.web.dashboard.auth import Visit, context_of
from plangate.web.dashboard.customer_page import customer_page
from plangate.web.dashboard.respond import posted_form

router = APIRouter(prefix="/customers/{customer_type}/{customer_id}")
MAX_DELTA = 1_000_000_000_000


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _whole(form: FormData, name: str, *, low: int, high: int) -> int:
    text = _field(form, name)
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise InvalidRequest(f"{name}_invalid", f"{name} must be a whole number from {low} "
                             f"to {high}", param=name)
    return int(text)


def _expiry(form: FormData) -> datetime | None:
    text = _field(form, "expires_at")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest("expires_at_invalid", "expires_at must be a date and time (UTC)",
                             param="expires_at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _live_products(session: Session, ctx: Any, ref: CustomerRef) -> dict[str, Any]:
    views = owned.live_views(session, ref, ctx.catalogs.active(session))
    return {"products": sorted(v.product_id for v in views)}


async def _act(
    request: Request,
    customer_type: str,
    customer_id: str,
    action: str,
    run: Callable[[Request, Visit, CustomerRef, FormData, Idempotency], JSONResponse],
) -> Response:
    checked = await posted_form(request, action)
    if isinstance(checked, Response):
        return checked
    form, visit = checked
    fields = {k: v for k, v in form.items() if k not in ("csrf_token", "idempotency_key")}
    digest = hashlib.sha256(
        json.dumps([action, customer_type, customer_id, sorted(fields.items())]).encode()
    ).hexdigest()
    key = _field(form, "idempotency_key")[:200] or None
    idem = Idempotency(
        context_of(request), Principal("server", visit.operator.actor), key, digest
    )
    try:
        ref = customer_ref(customer_type, customer_id)
        answer = await run_in_threadpool(run, request, visit, ref, form, idem)
    except PlangateError as exc:
        problem: PlangateError = exc
        return await run_in_threadpool(
            lambda: customer_page(request, visit, customer_type, customer_id,
                                  error=problem.message, status_code=problem.status)
        )
    if answer.status_code >= 400:
        message = json.loads(bytes(answer.body)).get("error", {}).get("message", "refused")
        return await run_in_threadpool(
            lambda: customer_page(request, visit, customer_type, customer_id,
                                  error=message, status_code=answer.status_code)
        )
    if action == "refund" and _field(form, "back") == "transaction":
        # Refunded from the transaction's own page: back there.
        target = f"/dashboard/transactions/{quote(_field(form, 'transaction_id'))}"
    else:
        target = f"/dashboard/customers/{ref.type}/{quote(ref.id)}"
    return RedirectResponse(f"{target}?done={action}", status_code=303)


def _audited(
    visit: Visit, ref: CustomerRef, action: str, idem: Idempotency,
    change: Callable[[Session], dict[str, Any]],
) -> JSONResponse:
    ctx = idem.ctx

    def effect(session: Session) -> tuple[int, dict[str, Any]]:
        before = _live_products(session, ctx, ref)
        detail = change(session)
        after = {**_live_products(session, ctx, ref), **detail}
        record_action(session, actor=visit.operator.actor, action=action,
                      target_type="customer", target=str(ref), before=before, after=after,
                      now=ctx.clock.now())
        return 200, after

    return idem.run(effect)


def _grant(request: Request, visit: Visit, ref: CustomerRef, form: FormData,
           idem: Idempotency) -> JSONResponse:
    ctx = context_of(request)
    product_id = _field(form, "product_id")
    quantity = _whole(form, "quantity", low=1, high=1000)

    def change(session: Session) -> dict[str, Any]:
        catalog = ctx.catalogs.active(session)
        product = catalog.products.get(product_id)
        if product is None:
            raise NotFound("product_not_found", f"no product {product_id!r} in the catalog",
                           param="product_id")
        ownership.grant_product(session, ref, catalog, product, ctx.clock.now(),
                                quantity=quantity)
        return {"granted": product_id, "quantity": quantity}

    return _audited(visit, ref, "product.grant", idem, change)


def _revoke(request: Request, visit: Visit, ref: CustomerRef, form: FormData,
            idem: Idempotency) -> JSONResponse:
    ctx = context_of(request)
    product_id = _field(form, "product_id")
    if purchase_routes.holds_subscription(ctx, ref, product_id):
        # A subscription ends through Stripe: cancelled at the period end, or now.
        immediately = _field(form, "immediately") == "true"
        answer = purchase_routes.cancel_subscription(
            ctx, idem.principal, ref, product_id, immediately, idem
        )
        _audit_gateway_answer(visit, ref, idem, answer, "subscription.cancel",
                              {"product": product_id}, {"immediately": immediately})
        return answer

    def change(session: Session) -> dict[str, Any]:
        ownership.revoke_product(session, ref, ctx.catalogs.active(session), product_id,
                                 ctx.clock.now())
        return {"revoked": product_id}

    return _audited(visit, ref, "product.revoke", idem, change)


def _audit_gateway_answer(visit: Visit, ref: CustomerRef, idem: Idempotency,
                          answer: JSONResponse, action: str, before: dict[str, Any],
                          after: dict[str, Any]) -> None:
    """The audit entry of an action the gateway answered, once: not for a refusal or for the
    replay of a double submission."""
    if answer.status_code < 400 and "idempotent-replayed" not in answer.headers:
        with idem.ctx.db.write() as session:
            record_action(session, actor=visit.operator.actor, action=action,
                          target_type="customer", target=str(ref), before=before,
                          after=after, now=idem.ctx.clock.now())


def _resume(request: Request, visit: Visit, ref: CustomerRef, form: FormData,
            idem: Idempotency) -> JSONResponse:
    ctx = context_of(request)
    product_id = _field(form, "product_id")
    with ctx.db.read() as session:
        views = owned.live_views(session, ref, ctx.catalogs.active(session))
    cancelling = any(v.cancel_at_period_end for v in views if v.product_id == product_id)
    answer = purchase_routes.resume_subscription(ctx, idem.principal, ref, product_id, idem)
    _audit_gateway_answer(visit, ref, idem, answer, "subscription.resume",
                          {"product": product_id, "cancel_at_period_end": cancelling},
                          {"cancel_at_period_end": False})
    return answer


def _adjust(request: Request, visit: Visit, ref: CustomerRef, form: FormData,
            idem: Idempotency) -> JSONResponse:
    ctx = context_of(request)
    item_id = _field(form, "item_id")
    delta = _whole(form, "delta", low=-MAX_DELTA, high=MAX_DELTA)
    if delta == 0:
        raise InvalidRequest("delta_invalid", "the change cannot be zero", param="delta")
    expires_at = _expiry(form)
    reason = _field(form, "reason")[:500] or None

    def change(session: Session) -> dict[str, Any]:
        if item_id not in ctx.catalogs.active(session).items:
            raise NotFound("item_not_found", f"no item {item_id!r} in the catalog",
                           param="item_id")
        balance = checks.change(
            session, ctx.services, ref, item_id, delta, ctx.clock.now(),
            expires_at=expires_at, allow_negative=False, description=reason,
            idempotency_key=idem.key,
        )
        return {"item": item_id, "delta": delta, "balance": balance, "reason": reason,
                "expires_at": expires_at.isoformat() if expires_at else None}

    return _audited(visit, ref, "item.adjust", idem, change)


def _refund(request: Request, visit: Visit, ref: CustomerRef, form: FormData,
            idem: Idempotency) -> JSONResponse:
    ctx = context_of(request)
    amount = _field(form, "amount_decimal") or None
    refund_request = refunds.RefundRequest(
        payment_intent_id=None, invoice_id=None,
        transaction_id=_field(form, "transaction_id"),
        amount=None, amount_decimal=amount,
        currency=_field(form, "currency") or None if amount else None,
        reason="requested_by_customer", idempotency_scope=scope(idem),
    )
    answer = ctx.purchases.refund(RecordedWrite(idem), refund_request, ctx.clock.now())
    body = json.loads(bytes(answer.body))
    _audit_gateway_answer(visit, ref, idem, answer, "payment.refund",
                          {"transaction": refund_request.transaction_id},
                          {"refund": body.get("id"), "amount": body.get("amount"),
                           "currency": body.get("currency")})
    return answer


@router.post("/grant")
async def grant(request: Request, customer_type: str, customer_id: str) -> Response:
    return await _act(request, customer_type, customer_id, "grant", _grant)


@router.post("/revoke")
async def revoke(request: Request, customer_type: str, customer_id: str) -> Response:
    return await _act(request, customer_type, customer_id, "revoke", _revoke)


@router.post("/adjust")
async def adjust(request: Request, customer_type: str, customer_id: str) -> Response:
    return await _act(request, customer_type, customer_id, "adjust", _adjust)


@router.post("/refund")
async def refund(request: Request, customer_type: str, customer_id: str) -> Response:
    return await _act(request, customer_type, customer_id, "refund", _refund)


@router.post("/resume")
async def resume(request: Request, customer_type: str, customer_id: str) -> Response:
    return await _act(request, customer_type, customer_id, "resume", _resume)
