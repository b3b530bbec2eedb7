"""Who is signed in: the session cookie resolved to an operator, the CSRF check of every
form, and ``plangate dev``'s automatic sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from plangate.api.context import AppContext
from plangate.services.operators import (
    OperatorView,
    ensure_operator,
    resolve_session,
    sign_in_without_password,
)
from plangate.services.operators.signin import SESSION_LIFETIME, SignedIn
from plangate.web.security import tokens_match

SESSION_COOKIE = "plangate_session"
LOGIN_CSRF_COOKIE = "plangate_login_csrf"
COOKIE_PATH = "/dashboard"
LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


@dataclass(frozen=True)
class Visit:
    operator: OperatorView
    csrf_token: str
    # Set when this request signed the browser in (dev): the cookie to send back.
    new_session: SignedIn | None = None


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.plangate
    return ctx


def current_visit(request: Request) -> Visit | None:
    ctx = context_of(request)
    now = ctx.clock.now()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = resolve_session(ctx.db, token, now)
        if found is not None:
            return Visit(found[0], found[1])
    dev_operator: str | None = getattr(request.app.state, "dashboard_dev_operator", None)
    client = request.client.host if request.client else ""
    if dev_operator and client in LOOPBACK:
        with ctx.db.write() as session:
            ensure_operator(session, dev_operator, "owner", now)
        signed = sign_in_without_password(ctx.db, dev_operator, now)
        return Visit(signed.operator, signed.csrf_token, signed)
    return None


def set_session_cookie(request: Request, response: Response, signed: SignedIn) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        # Relative, not the server's clock: the browser's idea of "now" may differ.
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def csrf_ok(visit: Visit, form_token: object) -> bool:
    return tokens_match(visit.csrf_token, form_token if isinstance(form_token, str) else None)
