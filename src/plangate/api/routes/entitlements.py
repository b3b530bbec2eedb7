from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from plangate.api.context import AppContext
from plangate.api.deps import Caller, Context, ReadableCustomer, authenticate, authorize_customer
from plangate.api.schemas import CheckOut, EntitlementsOut, ItemBalanceOut
from plangate.api.views import owned_products
from plangate.api.visibility import visible_ownerships, visible_plans
from plangate.errors import InvalidRequest
from plangate.observability.metrics import count_check
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.customers import customer_ref

router = APIRouter(prefix="/v1/customers/{customer_type}/{customer_id}", tags=["entitlements"])


def _query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_CHECK_PARAMETERS = [
    {
        "name": "customer_type",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["user", "team", "custom"]},
    },
    {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string"}},
    _query_parameter("feature", "a feature id", {"type": "string", "maxLength": 64}),
    _query_parameter("plan", "a product id", {"type": "string", "maxLength": 64}),
    _query_parameter("item", "an item id", {"type": "string", "maxLength": 64}),
    _query_parameter(
        "quantity",
        "with item: the quantity needed",
        {"type": "integer", "minimum": 1, "default": 1},
    ),
]


def _check_query(request: Request) -> tuple[str | None, str | None, str | None, int]:
    query = request.query_params
    feature, plan, item = query.get("feature"), query.get("plan"), query.get("item")
    if sum(x is not None for x in (feature, plan, item)) != 1:
        raise InvalidRequest(
            "check_target_invalid", "give exactly one of feature, plan or item", param="feature"
        )
    for name, value in (("feature", feature), ("plan", plan), ("item", item)):
        if value is not None and not 0 < len(value) <= 64:
            raise InvalidRequest(
                "parameter_invalid", f"{name} must be 1 to 64 characters", param=name
            )
    raw_quantity = query.get("quantity", "1")
    # isascii: "²".isdigit() is true, but int() refuses it.
    if not (raw_quantity.isascii() and raw_quantity.isdigit()) or int(raw_quantity) < 1:
        raise InvalidRequest(
            "parameter_invalid", "quantity must be a positive integer", param="quantity"
        )
    return feature, plan, item, int(raw_quantity)


@router.get(
    "/check",
    response_model=CheckOut,
    response_model_exclude_none=True,
    openapi_extra={"parameters": _CHECK_PARAMETERS},
)
async def check(request: Request) -> JSONResponse:
    """The hot path: one indexed read. Exactly one of feature, plan or item.

    Parsed by hand from the request rather than through FastAPI's dependency injection, whose
    per-parameter work costs several times the database read, and served directly
    (:class:`DirectRoute`); the rules are the same as the other routes' (``authenticate``,
    ``authorize_customer``, ``customer_ref``). The read is
    one primary-key lookup that no lock holds up (MVCC on PostgreSQL, WAL on SQLite), done on
    the event loop (on PostgreSQL awaited, coalesced with the concurrent ones into one query),
    cheaper than a hop to the thread pool. Only when a refill or expiry fell due does the
    settlement, a write transaction, run in the pool.
    """
    ctx: AppContext = request.app.state.plangate
    principal = await authenticate(ctx, request.headers.get("authorization"))
    ref = customer_ref(request.path_params["customer_type"], request.path_params["customer_id"])
    if not principal.is_server:
        await run_in_threadpool(authorize_customer, ctx, principal, ref, manage=False)
    feature, plan, item, quantity = _check_query(request)
    now = ctx.clock.now()
    if item is not None:
        balance = await ctx.hot_reads.balance(ref, item, now)
        if balance is None:
            balance = await run_in_threadpool(
                entitlements.settled_balance, ctx.services, ref, item, now
            )
        answer: dict[str, Any] = {
            "allowed": balance >= quantity,
            "item": item,
            "quantity": balance,
            "requested": quantity,
        }
        count_check("item", answer["allowed"])
        if not answer["allowed"]:
            await _explain_refusal(ctx, answer, "item", item)
        return JSONResponse(answer)
    snapshot = await ctx.hot_reads.snapshot(ref, now)
    if snapshot is None:
        snapshot = await run_in_threadpool(entitlements.settled_snapshot, ctx.services, ref, now)
    if feature is not None:
        answer = {"allowed": feature in snapshot.features, "feature": feature}
        target = ("feature", feature)
    else:
        assert plan is not None
        answer = {"allowed": plan in snapshot.plans, "plan": plan}
        target = ("plan", plan)
    count_check(target[0], answer["allowed"])
    if not answer["allowed"]:
        await _explain_refusal(ctx, answer, *target)
    return JSONResponse(answer)


class DirectRoute(Route):
    """A route its endpoint answers on its own, without FastAPI's request handling (for a
    ``Request``-only endpoint that is only the solving of an empty dependency graph, a
    response model left unused and an exit stack: a fifth of ``check``'s time in the
    app). Matched before the routers; the same endpoint stays on its router for the API
    document. The matched route goes in the scope as FastAPI's do, for the metrics' label."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


# The hot path, served directly (app.py puts these first).
DIRECT_ROUTES = [DirectRoute(router.prefix + "/check", check, methods=["GET"])]


def _unknown_to_catalog(ctx: AppContext, kind: str, target: str) -> bool:
    with ctx.db.read() as session:
        catalog = ctx.catalogs.active(session)
    if kind == "feature":
        return target not in catalog.features
    if kind == "plan":
        return target not in catalog.products
    return target not in catalog.items


async def _explain_refusal(ctx: AppContext, answer: dict[str, Any], kind: str, target: str) -> None:
    """A name the catalog does not define (a typo, or a feature since removed) stays
    ``allowed: false``, so removing a feature never breaks a caller, and says so in ``reason``.
    Only a refusal pays for this catalog read; the allowed path stays one lookup."""
    if await run_in_threadpool(_unknown_to_catalog, ctx, kind, target):
        answer["reason"] = f"unknown_{kind}"


@router.get("/entitlements", response_model=EntitlementsOut)
def get_entitlements(ref: ReadableCustomer, ctx: Context, caller: Caller) -> EntitlementsOut:
    """Plans, features, item balances and products the customer holds now."""
    view = entitlements.entitlements(ctx.services, ref, ctx.clock.now())
    return EntitlementsOut(
        customer_type=ref.type,
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
