"""Request dependencies: the app context, the caller, the customer addressed by the path.

Who may do what (DESIGN.md invariant 7, docs/auth.md): the server (secret key) may do
everything. A client (an end user's token) may read and manage its own user customer, read a
team it belongs to and manage a team where it is ``admin``, and nothing else: never a
``custom`` customer, never another user or team. Routes say what they need by the type of
their customer parameter: ``ReadableCustomer``, ``ManageableCustomer``, or ``CustomerPath``
with ``ServerCaller`` for server-only calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool

from plangate.api.context import AppContext
from plangate.errors import AuthenticationFailed, PermissionDenied
from plangate.services.access.identity import (
    CUSTOMER_SESSION_PREFIX,
    Identity,
    Role,
    verify_customer_session,
)
from plangate.services.entitlements import teams
from plangate.services.entitlements.customers import CustomerRef, customer_ref

# Dependencies are ``async`` where they do no blocking work, so that FastAPI does not hop to
# its thread pool for each of them; the blocking parts run in the pool explicitly.


async def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.plangate
    return ctx


Context = Annotated[AppContext, Depends(get_context)]


@dataclass(frozen=True)
class Principal:
    """Who calls: the app's backend with a secret key, or an end user through a client token."""

    kind: Literal["server", "client"]
    # Names the caller in idempotency records: "sk:<prefix>" or "user:<user id>".
    name: str
    user_id: str | None = None
    # Team roles the token itself states (identity-provider claims or a customer session);
    # stored memberships (PUT /v1/teams/{team_id}/members/{user_id}) are looked up on need.
    token_teams: Mapping[str, Role] = field(default_factory=dict)

    @property
    def is_server(self) -> bool:
        return self.kind == "server"

    @classmethod
    def client(cls, identity: Identity) -> Principal:
        return cls("client", "user:" + identity.user_id, identity.user_id, identity.teams)


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


async def authenticate(
    ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    token = _bearer(authorization)
    if token.startswith("sk_") and ctx.keys.is_cached(token):
        return Principal("server", "sk:" + token[:10])
    return await run_in_threadpool(_authenticate, ctx, token)


def _authenticate(ctx: AppContext, token: str) -> Principal:
    if token.startswith("sk_"):
        if ctx.keys.verify(ctx.db.read, token):
            return Principal("server", "sk:" + token[:10])
        raise AuthenticationFailed("secret_key_invalid", "the secret key is unknown or revoked")
    now = ctx.clock.now()
    if token.startswith(CUSTOMER_SESSION_PREFIX):
        with ctx.db.read() as session:
            identity = verify_customer_session(
                session, ctx.signing_keys, ctx.settings, token, now
            )
    else:
        identity = ctx.identity.verify(token, now)
    return Principal.client(identity)


Caller = Annotated[Principal, Depends(authenticate)]


async def require_server(principal: Caller) -> Principal:
    if not principal.is_server:
        raise PermissionDenied("server_only", "this call needs the server's secret key")
    return principal


ServerCaller = Annotated[Principal, Depends(require_server)]


async def path_customer(
    customer_type: Annotated[str, Path()], customer_id: Annotated[str, Path()]
) -> CustomerRef:
    return customer_ref(customer_type, customer_id)


CustomerPath = Annotated[CustomerRef, Depends(path_customer)]

# Catalog ids (domain/catalog: a-z, 0-9, _ and -, at most 64): a path that cannot name one
# is refused before any lookup or write sees it.
CATALOG_ID_PATTERN = "^[a-z0-9_-]{1,64}$"
ItemId = Annotated[str, Path(pattern=CATALOG_ID_PATTERN, description="an item of the catalog")]
ProductId = Annotated[
    str, Path(pattern=CATALOG_ID_PATTERN, description="a product the customer holds")
]


def team_role(ctx: AppContext, principal: Principal, team_id: str) -> Role | None:
    """The client's role in a team: what its token states for that team, else its stored
    membership. The token wins for the team it names: it was signed moments ago by the
    app's identity provider (or minted by the app's server), so it is the fresher truth."""
    claimed = principal.token_teams.get(team_id)
    if claimed is not None:
        return claimed
    assert principal.user_id is not None
    with ctx.db.read() as session:
        return teams.member_role(session, team_id, principal.user_id)


def authorize_customer(
    ctx: AppContext, principal: Principal, ref: CustomerRef, *, manage: bool
) -> None:
    """Raises 403 unless the caller may read (``manage=False``) or buy for and manage
    (``manage=True``) the customer. Checked before anything is read or written."""
    if principal.is_server:
        return
    if ref.type == "custom":
        raise PermissionDenied(
            "custom_customer_forbidden", "custom customers are reachable with the secret key only",
            param="customer_type",
        )
    if ref.type == "user":
        if ref.id == principal.user_id:
            return
        raise PermissionDenied(
            "customer_forbidden", "a client token may act only on its own user",
            param="customer_id",
        )
    role = team_role(ctx, principal, ref.id)
    if role is None:
        raise PermissionDenied(
            "customer_forbidden", f"the caller is not a member of team {ref.id!r}",
            param="customer_id",
        )
    if manage and role != "admin":
        raise PermissionDenied(
            "team_admin_required", f"only an admin of team {ref.id!r} may do this",
            param="customer_id",
        )


async def readable_customer(ref: CustomerPath, principal: Caller, ctx: Context) -> CustomerRef:
    if not principal.is_server:
        await run_in_threadpool(authorize_customer, ctx, principal, ref, manage=False)
    return ref


async def manageable_customer(
    ref: CustomerPath, principal: Caller, ctx: Context
) -> CustomerRef:
    if not principal.is_server:
        await run_in_threadpool(authorize_customer, ctx, principal, ref, manage=True)
    return ref


# The path's customer, which the caller may read: its entitlements, checks, products, items,
# billing, invoices.
ReadableCustomer = Annotated[CustomerRef, Depends(readable_customer)]
# The path's customer, which the caller may buy for and manage: checkout, switch, cancel,
# portal, cards. A client needs to be that user, or an admin of that team.
ManageableCustomer = Annotated[CustomerRef, Depends(manageable_customer)]
