"""What the account page shows one customer: the plans it holds with their dates, its item
balances with the next refill, its invoices and card (read through the purchase backend, as
``GET .../invoices`` and ``GET .../billing`` do), and, for whoever may manage it, the other
plans of each plan's line it may switch to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from plangate.api.deps import authorize_customer
from plangate.domain.ids import is_valid_id
from plangate.errors import InvalidRequest, PermissionDenied, PlangateError
from plangate.services.entitlements import checks
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.owned import visible
from plangate.services.entitlements.ownership import live_ownerships, product_of
from plangate.services.pricing import PricingTable, read_pricing_table
from plangate.web.pages.visitor import Visitor, context_of


@dataclass(frozen=True)
class Holder:
    """The customer the page is for, and whether the visitor may change its plans."""

    ref: CustomerRef
    may_manage: bool


@dataclass(frozen=True)
class SwitchOption:
    product_id: str
    price_id: str
    label: str


@dataclass(frozen=True)
class HeldPlan:
    product_id: str
    name: str
    line: str | None
    price_id: str | None
    source: str
    status: str
    trial_end: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    price_label: str | None
    switch_options: tuple[SwitchOption, ...]

    @property
    def is_subscription(self) -> bool:
        return self.source == "subscription"


def holder_of(request: Request, visitor: Visitor) -> Holder:
    """The user, or with ``?team=`` a team of theirs. Raises 400 for a malformed team id and
    403 for a team the visitor is not a member of."""
    ctx = context_of(request)
    team = request.query_params.get("team")
    if team is None:
        return Holder(CustomerRef("user", visitor.user_id), True)
    if not is_valid_id(team):
        raise InvalidRequest("team_invalid", "That is not a team id.", param="team")
    ref = CustomerRef("team", team)
    try:
        authorize_customer(ctx, visitor.principal, ref, manage=False)
    except PlangateError:
        raise PermissionDenied("customer_forbidden",
                               "You are not a member of this team.") from None
    try:
        authorize_customer(ctx, visitor.principal, ref, manage=True)
    except PlangateError:
        return Holder(ref, False)
    return Holder(ref, True)


def _price_label(table: PricingTable | None, product_id: str, price_id: str | None,
                 currency: str | None) -> str | None:
    if table is None or price_id is None:
        return None
    for plan in table.plans:
        for price in plan.prices if plan.id == product_id else ():
            amount = price.amount(_currency(table, currency))
            if price.id == price_id and amount is not None:
                return f"{amount.display} {_per(price.interval)}"
    return None


def _currency(table: PricingTable, billed: str | None) -> str:
    """The currency the customer is billed in, when the line has prices in it."""
    return billed if billed in table.currencies else table.default_currency


def _per(interval: str) -> str:
    if interval == "once":
        return "once"
    return f"per {interval}" if " " not in interval else f"every {interval}"


def _options(table: PricingTable | None, product_id: str, price_id: str | None,
             currency: str | None) -> tuple[SwitchOption, ...]:
    """Every other (plan, price) of the line a visitor could buy, the default plan left out
    (moving to it is a cancellation, which has its own button)."""
    if table is None:
        return ()
    found = []
    for plan in table.plans:
        if plan.default:
            continue
        for price in plan.prices:
            amount = price.amount(_currency(table, currency))
            if price.interval == "once" or amount is None:
                continue
            if plan.id == product_id and price.id == price_id:
                continue
            found.append(SwitchOption(plan.id, price.id,
                                      f"{plan.name}, {amount.display} {_per(price.interval)}"))
    return tuple(found)


def _table(request: Request, line: str | None) -> PricingTable | None:
    if line is None:
        return None
    ctx = context_of(request)
    try:
        return read_pricing_table(ctx.db, ctx.catalogs, line)
    except PlangateError:
        return None


def held_plans(request: Request, ref: CustomerRef, currency: str | None) -> list[HeldPlan]:
    """The customer's plans; prices in ``currency`` (what its invoices are in) when offered."""
    ctx = context_of(request)
    with ctx.db.read() as session:
        rows = [
            (o.product_id, product_of(o).name, o.line_id, o.price_id, o.source, o.status,
             o.trial_end, o.current_period_end, o.cancel_at_period_end)
            for o in visible(live_ownerships(session, ref), server=False)
        ]
    held = []
    for product_id, name, line, price_id, source, status, trial, end, cancelling in rows:
        table = _table(request, line)
        held.append(HeldPlan(
            product_id=product_id, name=name, line=line, price_id=price_id, source=source,
            status=status, trial_end=trial, current_period_end=end,
            cancel_at_period_end=cancelling,
            price_label=_price_label(table, product_id, price_id, currency),
            switch_options=_options(table, product_id, price_id, currency)
            if source == "subscription" else (),
        ))
    return held


def _money_and_cards(request: Request, ref: CustomerRef) -> dict[str, Any]:
    """Invoices and the card, read from the payment gateway: when it cannot be reached the
    page still shows the plans, and says what it could not read."""
    ctx = context_of(request)
    try:
        invoices = ctx.purchases.list_invoices(ref, 10, None)["data"]
        invoices_error = None
    except PlangateError as exc:
        invoices, invoices_error = [], exc.message
    try:
        billing = ctx.purchases.billing_details(ref)
        billing_error = None
    except PlangateError as exc:
        billing, billing_error = {"has_payment_customer": False}, exc.message
    return {"invoices": invoices, "invoices_error": invoices_error,
            "billing": billing, "billing_error": billing_error}


def account_url(request: Request, holder: Holder) -> str:
    """This page's address on PLANGATE_BASE_URL (where the portal returns)."""
    base = context_of(request).settings.base_url.rstrip("/")
    query = f"?{urlencode({'team': holder.ref.id})}" if holder.ref.type == "team" else ""
    return f"{base}/account{query}"


def account_context(request: Request, visitor: Visitor, holder: Holder) -> dict[str, Any]:
    ctx = context_of(request)
    view = checks.entitlements(ctx.services, holder.ref, ctx.clock.now())
    with ctx.db.read() as session:
        catalog = ctx.catalogs.active(session)
    names = {item_id: item.name for item_id, item in catalog.items.items()}
    # An item the customer has none of and gets none of is no balance of theirs.
    items = [(names.get(item_id, item_id), item) for item_id, item in sorted(view.items.items())
             if item.quantity != 0 or item.next_refill_at is not None]
    money = _money_and_cards(request, holder.ref)
    billed = money["invoices"][0]["currency"] if money["invoices"] else None
    plans = held_plans(request, holder.ref, billed)
    held = {plan.product_id for plan in plans}
    # A line's default plan is what the customer has without buying: no ownership row.
    for product_id in view.plans:
        product = catalog.products.get(product_id)
        if product_id not in held and product is not None and product.default:
            plans.append(HeldPlan(product_id, product.name, product.line, None, "default",
                                  "active", None, None, False, "Free", ()))
    return {
        "holder": holder,
        "plans": plans,
        "items": items,
        **money,
        "query": (f"?{urlencode({'team': holder.ref.id})}"
                  if holder.ref.type == "team" else ""),
        "has_portal": ctx.purchases.has_portal,
    }
