"""Answers every dashboard page gives: the page in the base layout, or the way to sign in."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.web.dashboard.auth import Visit, set_session_cookie
from plangate.web.templating import render


def to_login(request: Request) -> RedirectResponse:
    target = quote(request.url.path + ("?" + request.url.query if request.url.query else ""))
    return RedirectResponse(f"/dashboard/login?next={target}", status_code=303)


def page(request: Request, visit: Visit, template: str, context: dict[str, Any],
         status_code: int = 200) -> Response:
    response = render(
        request, template, {"operator": visit.operator, "csrf_token": visit.csrf_token,
                            **context}, status_code,
    )
    if visit.new_session is not None:
        set_session_cookie(request, response, visit.new_session)
    return response


FORM_EXPIRED = ("The form expired or did not come from this dashboard; reload the page and "
                "try again.")


def refused(request: Request, visit: Visit, message: str, status_code: int) -> Response:
    """A page saying what was refused and why, with the refusal's status."""
    return page(request, visit, "dashboard/error.html", {"message": message}, status_code)
