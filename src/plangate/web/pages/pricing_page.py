"""What the pricing page shows one visitor: the line's plans under the chosen interval and
currency, which plan the customer is on, and what each plan's button does (a checkout form,
the app's sign-in, or nothing, with the reason)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from plangate.api.deps import authorize_customer
from plangate.domain.ids import is_valid_id
from plangate.errors import InvalidRequest, PlangateError
from plangate.services.access.redirects import validate_redirect_url
from plangate.services.entitlements import checks
from plangate.services.entitlements.customers import CustomerRef, get_customer
from plangate.services.pricing import PricingTable
from plangate.web.pages.visitor import Visitor, context_of
from plangate.web.security import new_token


@dataclass(frozen=True)
class Buyer:
    """The customer the visitor would buy for, and whether it may."""

    ref: CustomerRef | None
    may_buy: bool
    reason: str | None
    current: frozenset[str]


def choose(table: PricingTable, request: Request) -> tuple[str, str]:
    """The interval and currency asked for in the query, else the defaults: monthly when
    offered (else the shortest) and the table's default currency."""
    interval = request.query_params.get("interval", "")
    if interval not in table.intervals:
        interval = "month" if "month" in table.intervals else (
            table.intervals[0] if table.intervals else "")
    currency = request.query_params.get("currency", "")
    if currency not in table.currencies:
        currency = table.default_currency
    return interval, currency


def _team_of(visitor: Visitor, request: Request) -> str | None:
    asked = request.query_params.get("team")
    if asked is not None:
        return asked if is_valid_id(asked) else None
    teams = list(visitor.principal.token_teams)
    return teams[0] if len(teams) == 1 else None


def buyer_of(request: Request, table: PricingTable, visitor: Visitor) -> Buyer:
    ctx = context_of(request)
    if table.customer_type == "user":
        ref = CustomerRef("user", visitor.user_id)
    elif table.customer_type == "team":
        team = _team_of(visitor, request)
        if team is None:
            return Buyer(None, False, "Open this page for one of your teams to choose its "
                         "plan.", frozenset())
        ref = CustomerRef("team", team)
    else:
        return Buyer(None, False, "These plans are arranged with the app's team.",
                     frozenset())
    try:
        authorize_customer(ctx, visitor.principal, ref, manage=False)
    except PlangateError:
        return Buyer(None, False, "You are not a member of this team.", frozenset())
    try:
        current = frozenset(checks.entitlements(ctx.services, ref, ctx.clock.now()).plans)
    except PlangateError:
        current = frozenset()
    try:
        authorize_customer(ctx, visitor.principal, ref, manage=True)
    except PlangateError:
        return Buyer(ref, False, "Only an admin of the team can change its plan.", current)
    return Buyer(ref, True, None, current)


def shown_name(request: Request, visitor: Visitor) -> str:
    """Who the page is open for, as the app named them (name, else email, else id): a
    visitor sent someone else's link sees at once that it is not their account."""
    ctx = context_of(request)
    with ctx.db.read() as session:
        row = get_customer(session, CustomerRef("user", visitor.user_id))
        if row is not None and (row.name or row.email):
            return str(row.name or row.email)
    return visitor.user_id


def page_url(request: Request, table: PricingTable, interval: str, currency: str) -> str:
    """This page's address on PLANGATE_BASE_URL, where the app sends the visitor back."""
    query = {"interval": interval, "currency": currency}
    team = request.query_params.get("team")
    if team and is_valid_id(team):
        query["team"] = team
    base = context_of(request).settings.base_url.rstrip("/")
    return f"{base}/pricing/{table.line_id}?{urlencode(query)}"


def sign_in_link(request: Request, return_url: str) -> str | None:
    """The app's sign-in page with ``return_url``, if it is configured and allowed."""
    settings = context_of(request).settings
    if not settings.sign_in_url:
        return None
    try:
        url = validate_redirect_url(settings.sign_in_url, settings, param="sign_in_url")
    except InvalidRequest:
        return None
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{urlencode({'return_url': return_url})}"


def page_context(
    request: Request, table: PricingTable, visitor: Visitor | None
) -> dict[str, Any]:
    settings = context_of(request).settings
    interval, currency = choose(table, request)
    here = page_url(request, table, interval, currency)
    buyer = buyer_of(request, table, visitor) if visitor is not None else None
    return {
        "table": table,
        "plans": table.plans_for(interval),
        "interval": interval,
        "currency": currency,
        "visitor": visitor,
        "signed_in_as": shown_name(request, visitor) if visitor is not None else None,
        "buyer": buyer,
        "csrf_token": visitor.csrf_token if visitor is not None else "",
        "form_key": new_token(),
        "sign_in": sign_in_link(request, here) if visitor is None else None,
        "brand_name": settings.brand_name,
        "brand_logo_url": settings.brand_logo_url,
        "team": buyer.ref.id if buyer and buyer.ref and buyer.ref.type == "team" else None,
        "notice": request.query_params.get("notice"),
    }
