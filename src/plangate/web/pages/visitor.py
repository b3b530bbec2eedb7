"""Who is looking at a hosted page.

plangate has no end-user accounts of its own: the app signs its users in. A page is opened
for a signed-in customer with a short-lived client token in the URL (``?token=``: a
customer-session token from ``POST /v1/customer-sessions`` or, when an identity provider is
configured, the provider's JWT). The page moves it at once into an HttpOnly cookie scoped to
the hosted pages, ``/pricing`` and ``/account`` (one cookie per path, the same token, so a
visitor moves between the two pages signed in while the API, the dashboard and every other
path of plangate's origin never receive it), and redirects to the same address without it,
so the token does not stay in the address bar, the history or a shared link. Every request
verifies the token again: when it expires the visitor is simply signed out. A secret key is
never accepted here.

Forms carry a CSRF token derived from the customer's token (an HMAC under it): a page on
another site can neither read the cookie nor compute the value.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from plangate.api.context import AppContext
from plangate.api.deps import Principal
from plangate.errors import AuthenticationFailed, PlangateError
from plangate.services.access.identity import CUSTOMER_SESSION_PREFIX, verify_customer_session
from plangate.web.security import tokens_match

COOKIE = "plangate_customer"
COOKIE_PATH = "/pricing"
# Every path the customer's cookie is set on (and forgotten from): the hosted pages only.
COOKIE_PATHS = (COOKIE_PATH, "/account")
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True)
class Visitor:
    principal: Principal
    token: str

    @property
    def user_id(self) -> str:
        assert self.principal.user_id is not None
        return self.principal.user_id

    @property
    def csrf_token(self) -> str:
        return hmac.new(self.token.encode(), b"plangate pages form", hashlib.sha256).hexdigest()

    def csrf_ok(self, given: object) -> bool:
        return tokens_match(self.csrf_token, given if isinstance(given, str) else None)


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.plangate
    return ctx


def verify_client_token(ctx: AppContext, token: str) -> Principal:
    """The client a page token names, or the AuthenticationFailed that refuses it."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.startswith("sk_"):
        raise AuthenticationFailed("token_invalid", "a page takes a client token only")
    now = ctx.clock.now()
    if token.startswith(CUSTOMER_SESSION_PREFIX):
        with ctx.db.read() as session:
            identity = verify_customer_session(
                session, ctx.signing_keys, ctx.settings, token, now
            )
    else:
        identity = ctx.identity.verify(token, now)
    return Principal.client(identity)


def current_visitor(request: Request) -> Visitor | None:
    """The signed-in customer of this request (by the cookie), or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return Visitor(verify_client_token(context_of(request), token), token)
    except PlangateError:
        return None


def adopt_token(request: Request) -> Response | None:
    """For a URL with ``?token=``: the redirect to the same URL without it, setting the
    cookie when the token verifies (and clearing it when it does not). None otherwise."""
    token = request.query_params.get("token")
    if token is None:
        return None
    rest = [(k, v) for k, v in request.query_params.multi_items()
            if k not in ("token", "notice")]
    try:
        verify_client_token(context_of(request), token)
    except PlangateError:
        rest.append(("notice", "session_expired"))
        response = RedirectResponse(f"{request.url.path}?{urlencode(rest)}", status_code=303)
        forget_visitor(response)
        return response
    target = request.url.path + ("?" + urlencode(rest) if rest else "")
    response = RedirectResponse(target, status_code=303)
    for path in COOKIE_PATHS:
        response.set_cookie(
            COOKIE,
            token,
            path=path,
            httponly=True,
            # Lax, not Strict: the app links here from its own site, and the first page after
            # that navigation must already know the visitor.
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def forget_visitor(response: Response) -> None:
    """Clears the customer's cookie on every page path."""
    for path in COOKIE_PATHS:
        response.delete_cookie(COOKIE, path=path)
