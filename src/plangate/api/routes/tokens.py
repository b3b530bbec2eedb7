"""Tokens plangate signs: customer sessions (client credentials the app's server mints),
entitlement tokens (offline checks) and the JWKS that verifies them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from plangate.api.context import AppContext
from plangate.api.deps import Caller, Context, Principal, ServerCaller, authorize_customer
from plangate.api.schemas import CustomerSessionIn, CustomerSessionOut, EntitlementTokenOut
from plangate.api.visibility import visible_plans
from plangate.errors import InvalidRequest
from plangate.services.access import signing
from plangate.services.access.identity import mint_customer_session
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.customers import CustomerRef, customer_ref

router = APIRouter(tags=["auth"])

DEFAULT_SESSION_SECONDS = 900


@router.post("/v1/customer-sessions", status_code=201, response_model=CustomerSessionOut)
def create_customer_session(
    body: CustomerSessionIn, ctx: Context, _: ServerCaller
) -> CustomerSessionOut:
    """Mint a short-lived client token for one user and its team roles (server only).

    Minting changes no state, so an ``Idempotency-Key`` is accepted and not recorded: the
    token, a credential, is never stored.
    """
    customer_ref("user", body.user_id)
    for team_id in body.teams:
        customer_ref("team", team_id)
    expires_in = body.expires_in or min(
        DEFAULT_SESSION_SECONDS, ctx.settings.customer_session_max_seconds
    )
    with ctx.db.write() as session:  # the first token ever also makes the first signing key
        minted = mint_customer_session(
            session, ctx.settings, ctx.clock.now(), body.user_id, body.teams, expires_in
        )
    return CustomerSessionOut(
        token=minted.token, expires_at=minted.expires_at, user_id=body.user_id, teams=body.teams
    )


def _token_customer(
    principal: Principal,
    customer_type: str | None,
    customer_id: str | None,
    team_id: str | None,
) -> CustomerRef:
    if team_id is not None:
        if customer_type is not None or customer_id is not None:
            raise InvalidRequest(
                "customer_ambiguous", "give team_id or customer_type and customer_id, not both",
                param="team_id",
            )
        return customer_ref("team", team_id)
    if customer_type is not None and customer_id is not None:
        return customer_ref(customer_type, customer_id)
    if customer_type is None and customer_id is None and principal.user_id is not None:
        return customer_ref("user", principal.user_id)  # a client, for itself
    raise InvalidRequest(
        "parameter_missing", "give customer_type and customer_id", param="customer_type"
    )


def _sign(ctx: AppContext, claims: dict[str, Any], now: datetime) -> str:
    secret = ctx.settings.signing_key_secret
    with ctx.db.read() as session:
        key = signing.current_signing_key(session)
    if key is None:
        with ctx.db.write() as session:
            key = signing.active_signing_key(session, now, secret=secret)
    return signing.sign_with(key, claims, secret=secret)


@router.get("/v1/entitlement-token", response_model=EntitlementTokenOut)
def entitlement_token(
    ctx: Context,
    caller: Caller,
    customer_type: Annotated[str | None, Query(max_length=8)] = None,
    customer_id: Annotated[str | None, Query(max_length=255)] = None,
    team_id: Annotated[str | None, Query(max_length=255)] = None,
) -> EntitlementTokenOut:
    """A signed JWT (EdDSA) of the customer's plans and features, verifiable offline with
    ``/.well-known/jwks.json``. A client gets its own (no parameters) or a team's it belongs
    to (``team_id``); the server names the customer."""
    ref = _token_customer(caller, customer_type, customer_id, team_id)
    authorize_customer(ctx, caller, ref, manage=False)
    now = ctx.clock.now()
    view = entitlements.entitlements(ctx.services, ref, now)
    issued = int(now.timestamp())
    expires = issued + ctx.settings.entitlement_token_seconds
    claims = {
        "iss": ctx.settings.base_url,
        # The SDK's verifier requires sub == "<customer_type>/<customer_id>".
        "sub": str(ref),
        "customer_type": ref.type,
        "customer_id": ref.id,
        "plans": visible_plans(caller, view.plans, view.ownerships),
        "features": view.features,
        "iat": issued,
        "exp": expires,
    }
    return EntitlementTokenOut(
        token=_sign(ctx, claims, now),
        expires_at=datetime.fromtimestamp(expires, UTC),
        customer_type=ref.type,
        customer_id=ref.id,
    )


@router.get("/.well-known/jwks.json")
def jwks(ctx: Context) -> JSONResponse:
    """The public keys that verify entitlement tokens: the signing key and, for one token
    lifetime after a rotation, the previous one. Verifiers refetch on an unknown ``kid``."""
    now = ctx.clock.now()
    retention = signing.key_retention(ctx.settings)
    with ctx.db.read() as session:
        keys = signing.published_keys(session, now, retention)
    if not keys:
        with ctx.db.write() as session:
            signing.active_signing_key(session, now, secret=ctx.settings.signing_key_secret)
            keys = signing.published_keys(session, now, retention)
    # no-cache: a verifier must see a new key as soon as it signs.
    return JSONResponse({"keys": keys}, headers={"Cache-Control": "no-cache"})
