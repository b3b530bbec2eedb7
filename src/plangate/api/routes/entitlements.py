from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from plangate.api.deps import Caller, Context, ReadableCustomer
from plangate.api.schemas import CheckOut, EntitlementsOut, ItemBalanceOut
from plangate.api.views import owned_products
from plangate.api.visibility import visible_ownerships, visible_plans
from plangate.errors import InvalidRequest
from plangate.services import entitlements

router = APIRouter(prefix="/v1/customers/{customer_type}/{customer_id}", tags=["entitlements"])


@router.get("/entitlements", response_model=EntitlementsOut)
def get_entitlements(ref: ReadableCustomer, ctx: Context, caller: Caller) -> EntitlementsOut:
    """Plans, features, item balances and products the customer holds now."""
    view = entitlements.entitlements(ctx.services, ref, ctx.clock.now())
    return EntitlementsOut(
        customer_type=ref.type,  # type: ignore[arg-type]
        customer_id=ref.id,
        plans=visible_plans(caller, view.plans, view.ownerships),
        features=view.features,
        items={
            item_id: ItemBalanceOut(
                quantity=item.quantity,
                non_negative_quantity=item.non_negative_quantity,
                next_refill_at=item.next_refill_at,
            )
            for item_id, item in view.items.items()
        },
        products=owned_products(ctx, visible_ownerships(caller, view.ownerships)),
    )


@router.get("/check", response_model=CheckOut, response_model_exclude_none=True)
def check(
    ref: ReadableCustomer,
    ctx: Context,
    feature: Annotated[str | None, Query(max_length=64)] = None,
    plan: Annotated[str | None, Query(max_length=64)] = None,
    item: Annotated[str | None, Query(max_length=64)] = None,
    quantity: Annotated[int, Query(ge=1)] = 1,
) -> CheckOut:
    """The hot path: one indexed read. Exactly one of feature, plan or item."""
    if sum(x is not None for x in (feature, plan, item)) != 1:
        raise InvalidRequest(
            "check_target_invalid", "give exactly one of feature, plan or item", param="feature"
        )
    now = ctx.clock.now()
    services = ctx.services
    if feature is not None:
        return CheckOut(allowed=entitlements.has_feature(services, ref, feature, now), feature=feature)
    if plan is not None:
        return CheckOut(allowed=entitlements.has_plan(services, ref, plan, now), plan=plan)
    assert item is not None
    balance = entitlements.item_balance(services, ref, item, now)
    return CheckOut(allowed=balance >= quantity, item=item, quantity=balance, requested=quantity)
