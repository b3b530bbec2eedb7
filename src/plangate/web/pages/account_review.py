"""The account page's switch review: before the customer confirms a switch, what it would
cost (the amount due now and the next invoice), from the purchase backend's switch preview,
as ``POST .../products/switch/preview`` answers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from plangate.domain.ids import is_valid_id
from plangate.errors import PlangateError
from plangate.services import purchases
from plangate.web.pages.account_page import HeldPlan, Holder
from plangate.web.pages.visitor import context_of


@dataclass(frozen=True)
class Review:
    product_id: str
    target: str  # "product:price", as the switch form sends it
    preview: dict[str, Any] | None
    error: str | None


def switch_review(request: Request, holder: Holder) -> Review | None:
    """``?review=<product>&target=<product>:<price>``: the preview of that switch."""
    product_id = request.query_params.get("review")
    target = request.query_params.get("target", "")
    if product_id is None or not holder.may_manage:
        return None
    to_product, _, price = target.partition(":")
    if not (is_valid_id(product_id) and is_valid_id(to_product)
            and (not price or is_valid_id(price))):
        return Review(product_id, target, None, "Choose a plan to switch to.")
    ctx = context_of(request)
    switch = purchases.SwitchRequest(ref=holder.ref, from_product_id=product_id,
                                     to_product_id=to_product, price_id=price or None,
                                     client=True)
    try:
        return Review(product_id, target, ctx.purchases.preview_switch(switch, ctx.clock.now()),
                      None)
    except PlangateError as exc:
        return Review(product_id, target, None, exc.message)


def pending_changes(request: Request, holder: Holder, plans: list[HeldPlan]
                    ) -> dict[str, dict[str, Any]]:
    """Per held plan, the downgrade waiting for its period end (with the target's name)."""
    ctx = context_of(request)
    found: dict[str, dict[str, Any]] = {}
    for plan in plans:
        if not plan.is_subscription or plan.status == "scheduled":
            continue
        try:
            pending = ctx.purchases.pending_change(holder.ref, plan.product_id)
        except PlangateError:
            continue  # the page still shows the plan; the gateway error shows on invoices
        if pending is not None:
            with ctx.db.read() as session:
                product = ctx.catalogs.active(session).products.get(
                    str(pending["to_product_id"]))
            found[plan.product_id] = {**pending,
                                      "name": product.name if product else "another plan"}
    return found
