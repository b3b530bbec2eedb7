"""The hosted account page, ``/account`` (``?team=`` for a team), and its forms: cancel at
the period end, resume, switch plan, and the billing portal. Each form acts through the
same route function as the REST API (``DELETE .../products/{id}``, ``POST .../resume``,
``POST .../switch``, ``POST .../portal-sessions``), as the customer's own client, under an
Idempotency-Key made from the form's one-time key: a form sent twice acts once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.api.idempotency import Idempotency
from plangate.api.routes import purchases as purchase_routes
from plangate.api.schemas import SwitchIn
from plangate.domain.ids import is_valid_id
from plangate.errors import PlangateError
from plangate.web.pages.account_page import Holder, account_context, account_url, holder_of
from plangate.web.pages.account_review import pending_changes, switch_review
from plangate.web.pages.pricing_page import shown_name, sign_in_link
from plangate.web.pages.visitor import Visitor, adopt_token, context_of, current_visitor
from plangate.web.security import new_token
from plangate.web.templating import render

router = APIRouter(prefix="/account", include_in_schema=False)

FORM_EXPIRED = "The form expired or did not come from this page; reload it and try again."
DONE = {"cancel": "Your plan will end at the end of the period.",
        "resume": "Your plan will renew again.",
        "switch": "Your plan change was sent.",
        "switch_now": "Your new plan starts now.",
        "switch_period_end": "Your new plan starts at the end of the period."}
Form = dict[str, str]


def _brand(request: Request) -> dict[str, str]:
    settings = context_of(request).settings
    return {"brand_name": settings.brand_name, "brand_logo_url": settings.brand_logo_url}


def _problem(request: Request, message: str, code: str, status_code: int,
             visitor: Visitor | None = None) -> Response:
    context: dict[str, Any] = {**_brand(request), "message": message, "code": code}
    if visitor is None and code == "signed_out":
        context["sign_in"] = sign_in_link(
            request, context_of(request).settings.base_url.rstrip("/") + "/account")
    if visitor is not None:
        context.update(signed_in_as=shown_name(request, visitor),
                       csrf_token=visitor.csrf_token)
    return render(request, "pages/problem.html", context, status_code)


def _signed_out(request: Request) -> Response:
    return _problem(request, "Open your account from the app to see your plan.",
                    "signed_out", 401)


def _page(request: Request, visitor: Visitor, *, error: str | None = None,
          status_code: int = 200) -> Response:
    try:
        holder = holder_of(request, visitor)
        context = account_context(request, visitor, holder)
        context["review"] = switch_review(request, holder)
        context["pending"] = pending_changes(request, holder, context["plans"])
    except PlangateError as exc:
        return _problem(request, exc.message, exc.code, exc.status, visitor)
    done = request.query_params.get("done", "")
    return render(request, "pages/account.html", {
        **_brand(request),
        **context,
        "signed_in_as": shown_name(request, visitor),
        "csrf_token": visitor.csrf_token,
        "form_key": new_token(),
        "error": error,
        "done": DONE.get(done),
    }, status_code)


@router.get("")
def account(request: Request) -> Response:
    adopted = adopt_token(request)
    if adopted is not None:
        return adopted
    visitor = current_visitor(request)
    if visitor is None:
        return _signed_out(request)
    return _page(request, visitor)


def _idempotency(request: Request, visitor: Visitor, action: str, holder: Holder,
                 form: Form) -> Idempotency:
    fields = sorted((k, v) for k, v in form.items() if k not in ("csrf_token", "form_key"))
    digest = hashlib.sha256(
        json.dumps([action, str(holder.ref), fields]).encode()).hexdigest()
    key = form.get("form_key", "")[:200] or None
    return Idempotency(context_of(request), visitor.principal, key, digest)


def _product(form: Form, name: str = "product_id") -> str:
    value = form.get(name, "")
    if not is_valid_id(value):
        raise _Refused("That is not a plan of yours.", 400)
    return value


class _Refused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _cancel(request: Request, visitor: Visitor, holder: Holder, form: Form,
            idem: Idempotency) -> JSONResponse:
    return purchase_routes.cancel_subscription(
        context_of(request), visitor.principal, holder.ref, _product(form), False, idem)


def _resume(request: Request, visitor: Visitor, holder: Holder, form: Form,
            idem: Idempotency) -> JSONResponse:
    return purchase_routes.resume(
        holder.ref, _product(form), context_of(request), visitor.principal, idem)


def _switch(request: Request, visitor: Visitor, holder: Holder, form: Form,
            idem: Idempotency) -> JSONResponse:
    target, _, price = form.get("target", "").partition(":")
    try:
        body = SwitchIn(from_product_id=_product(form), to_product_id=target,
                        price_id=price or None)
    except ValidationError:
        raise _Refused("Choose a plan to switch to.", 400) from None
    return purchase_routes.switch(
        holder.ref, body, context_of(request), visitor.principal, idem)


Action = Callable[[Request, Visitor, Holder, Form, Idempotency], JSONResponse]
ACTIONS: dict[str, Action] = {"cancel": _cancel, "resume": _resume, "switch": _switch}


def _checked(request: Request, form: Form) -> tuple[Visitor, Holder] | Response:
    """The visitor and the customer they may manage, or the page that says why not."""
    visitor = current_visitor(request)
    if visitor is None:
        return _signed_out(request)
    if not visitor.csrf_ok(form.get("csrf_token")):
        return _page(request, visitor, error=FORM_EXPIRED, status_code=403)
    try:
        holder = holder_of(request, visitor)
    except PlangateError as exc:
        return _problem(request, exc.message, exc.code, exc.status, visitor)
    if not holder.may_manage:
        return _page(request, visitor, error="Only an admin of the team can change its plan.",
                     status_code=403)
    return visitor, holder


def _act(request: Request, action: str, form: Form) -> Response:
    checked = _checked(request, form)
    if isinstance(checked, Response):
        return checked
    visitor, holder = checked
    try:
        answer = ACTIONS[action](request, visitor, holder, form,
                                 _idempotency(request, visitor, action, holder, form))
    except _Refused as refused:
        return _page(request, visitor, error=refused.message, status_code=refused.status)
    except PlangateError as exc:
        return _page(request, visitor, error=exc.message, status_code=exc.status)
    if answer.status_code >= 400:
        body = json.loads(bytes(answer.body))
        return _page(request, visitor, error=body.get("error", {}).get("message", "Refused."),
                     status_code=answer.status_code)
    done = action
    if action == "switch":
        # The switch's answer says when it takes effect: now (an upgrade), or at the end.
        effective = json.loads(bytes(answer.body)).get("effective")
        done = f"switch_{effective}" if f"switch_{effective}" in DONE else action
    query = {"done": done, **({"team": holder.ref.id} if holder.ref.type == "team" else {})}
    return RedirectResponse(f"/account?{urlencode(query)}", status_code=303)


def _portal(request: Request, form: Form) -> Response:
    checked = _checked(request, form)
    if isinstance(checked, Response):
        return checked
    visitor, holder = checked
    ctx = context_of(request)
    try:
        url = ctx.purchases.portal_url(holder.ref, account_url(request, holder), None)
    except PlangateError as exc:
        return _page(request, visitor, error=exc.message, status_code=exc.status)
    return RedirectResponse(url, status_code=303)


async def _form(request: Request) -> Form | Response:
    try:
        raw = await request.form()
    except Exception:  # noqa: BLE001 - any body the form parser refuses is the caller's
        return _problem(request, "The form could not be read.", "form_invalid", 400)
    return {k: v for k, v in raw.items() if isinstance(v, str)}


@router.post("/portal")
async def portal(request: Request) -> Response:
    form = await _form(request)
    if isinstance(form, Response):
        return form
    return await run_in_threadpool(_portal, request, form)


@router.post("/{action}")
async def act(request: Request, action: str) -> Response:
    if action not in ACTIONS:
        return _problem(request, "There is no such action.", "not_found", 404)
    form = await _form(request)
    if isinstance(form, Response):
        return form
    return await run_in_threadpool(_act, request, action, form)


@router.get("/{rest:path}")
def elsewhere(request: Request, rest: str) -> Response:
    """Any other address under /account (an action's address opened as a link, too)."""
    return _problem(request, "There is no such page.", "not_found", 404)
