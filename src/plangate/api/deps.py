"""Request dependencies: the app context, the caller, the customer addressed by the path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Header, Path, Request

from plangate.api.context import AppContext
from plangate.errors import AuthenticationFailed, PermissionDenied
from plangate.services.customers import CustomerRef, customer_ref


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.plangate
    return ctx


Context = Annotated[AppContext, Depends(get_context)]


@dataclass(frozen=True)
class Principal:
    """Who calls: the app's backend with a secret key, or an end user through a client token."""

    kind: Literal["server", "client"]
    name: str

    @property
    def is_server(self) -> bool:
        return self.kind == "server"


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed(
            "authentication_required", "send Authorization: Bearer <secret key or client token>"
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "authentication_invalid", "the Authorization header must be 'Bearer <token>'"
        )
    return token.strip()


def authenticate(
    ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    token = _bearer(authorization)
    if token.startswith("sk_"):
        if ctx.keys.verify(ctx.db.read, token):
            return Principal("server", "sk:" + token[:10])
        raise AuthenticationFailed("secret_key_invalid", "the secret key is unknown or revoked")
    raise AuthenticationFailed("token_invalid", "the token is not a valid secret key")


Caller = Annotated[Principal, Depends(authenticate)]


def require_server(principal: Caller) -> Principal:
    if not principal.is_server:
        raise PermissionDenied("server_only", "this call needs the server's secret key")
    return principal


ServerCaller = Annotated[Principal, Depends(require_server)]


def path_customer(
    customer_type: Annotated[str, Path()], customer_id: Annotated[str, Path()]
) -> CustomerRef:
    return customer_ref(customer_type, customer_id)


CustomerPath = Annotated[CustomerRef, Depends(path_customer)]
