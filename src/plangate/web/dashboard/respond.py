"""Answers every dashboard page gives: the page in the base layout, or the way to sign in."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.services.installation import persisted_gateway
from plangate.services.operators import may
from plangate.web.dashboard.auth import (
    Visit,
    context_of,
    csrf_ok,
    current_visit,
    set_session_cookie,
)
from plangate.web.templating import render


def to_login(request: Request) -> RedirectResponse:
    target = quote(request.url.path + ("?" + request.url.query if request.url.query else ""))
    return RedirectResponse(f"/dashboard/login?next={target}", status_code=303)


def gateway_mode(request: Request) -> dict[str, Any]:
    """The gateway this process runs on, the one an owner chose for the next start, and
    whether ``PLANGATE_GATEWAY`` (or the code that built the settings) pins it."""
    ctx = context_of(request)
    chosen = persisted_gateway(ctx.db)
    return {"running": ctx.settings.gateway, "chosen": chosen,
            "next": chosen if chosen not in (None, ctx.settings.gateway) else None,
            "pinned": "gateway" in ctx.settings.model_fields_set and not ctx.gateway_from_owner}


def page(request: Request, visit: Visit, template: str, context: dict[str, Any],
         status_code: int = 200) -> Response:
    response = render(
        request, template, {"operator": visit.operator, "csrf_token": visit.csrf_token,
                            "mode": gateway_mode(request), **context}, status_code,
    )
    if visit.new_session is not None:
        set_session_cookie(request, response, visit.new_session)
    return response


FORM_EXPIRED = ("The form expired or did not come from this dashboard; reload the page and "
                "try again.")


def refused(request: Request, visit: Visit, message: str, status_code: int) -> Response:
    """A page saying what was refused and why, with the refusal's status."""
    return page(request, visit, "dashboard/error.html", {"message": message}, status_code)


async def posted_form(
    request: Request, action: str | None
) -> tuple[FormData, Visit] | Response:
    """The form of a POST and who sent it, once the sender is signed in, the form carries
    the session's CSRF token, and the sender's role allows ``action`` (None: any role);
    otherwise the answer that refuses it."""
    form = await request.form()
    visit = await run_in_threadpool(current_visit, request)
    if visit is None:
        return to_login(request)
    if not csrf_ok(visit, form.get("csrf_token")):
        return refused(request, visit, FORM_EXPIRED, 403)
    if action is not None and not may(visit.operator.role, action):
        return refused(request, visit, f"A {visit.operator.role} may not {action}.", 403)
    return form, visit
