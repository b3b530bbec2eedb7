from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from plangate.api.deps import Context, CustomerPath, ItemId, ReadableCustomer, ServerCaller
from plangate.api.idempotency import Idempotent
from plangate.api.schemas import ConsumeIn, ItemChangeIn, ItemOut
from plangate.errors import Conflict, NotFound
from plangate.observability.metrics import count_consume
from plangate.services.entitlements import checks as entitlements

router = APIRouter(
    prefix="/v1/customers/{customer_type}/{customer_id}/items/{item_id}", tags=["items"]
)


def _require_item(ctx, session, item_id: str) -> None:  # type: ignore[no-untyped-def]
    if item_id not in ctx.catalogs.active(session).items:
        raise NotFound("item_not_found", f"no item {item_id!r} in the catalog", param="item_id")


@router.get("", response_model=ItemOut)
def get_item(ref: ReadableCustomer, item_id: ItemId, ctx: Context) -> ItemOut:
    with ctx.db.read() as session:
        _require_item(ctx, session, item_id)
    view = entitlements.item_view(ctx.services, ref, item_id, ctx.clock.now())
    return ItemOut(
        item_id=item_id,
        quantity=view.quantity,
        non_negative_quantity=view.non_negative_quantity,
        next_refill_at=view.next_refill_at,
    )


def _changed(item_id: ItemId, balance: int) -> dict[str, object]:
    return {"item_id": item_id, "quantity": balance, "non_negative_quantity": max(balance, 0)}


@router.post("/changes", responses={200: {"model": ItemOut}})
def change_item(  # type: ignore[no-untyped-def]
    ref: CustomerPath,
    item_id: ItemId,
    body: ItemChangeIn,
    ctx: Context,
    _: ServerCaller,
    idem: Idempotent,
):
    """Add (delta > 0, optionally expiring) or remove a quantity. Server only."""

    def effect(session):  # type: ignore[no-untyped-def]
        _require_item(ctx, session, item_id)
        balance = entitlements.change(
            session,
            ctx.services,
            ref,
            item_id,
            body.delta,
            ctx.clock.now(),
            expires_at=body.expires_at,
            allow_negative=body.allow_negative,
            description=body.description,
            idempotency_key=idem.key,
        )
        return 200, _changed(item_id, balance)

    return idem.run(effect)


@router.post("/consume", responses={200: {"model": ItemOut}})
def consume_item(
    ref: CustomerPath,
    item_id: ItemId,
    body: ConsumeIn,
    ctx: Context,
    _: ServerCaller,
    idem: Idempotent,
) -> JSONResponse:
    """Take ``quantity`` or nothing: 200 with the rest, or 409 ``insufficient_quantity``.

    With or without an Idempotency-Key this is the fast path, one statement on PostgreSQL: a
    key is recorded in the consumption's ledger entry (scoped to the customer and item), and
    a retry with it replays the first answer, a refusal too."""
    try:
        consumed = entitlements.consume_now(
            ctx.services,
            ref,
            item_id,
            body.quantity,
            ctx.clock.now(),
            description=body.description,
            idempotency_key=idem.key,
        )
    except Conflict as exc:
        if exc.code == "insufficient_quantity":
            with ctx.db.read() as session:
                _require_item(ctx, session, item_id)
            count_consume("insufficient")
        raise
    count_consume("replayed" if consumed.replayed else "consumed")
    headers = {"Idempotent-Replayed": "true"} if consumed.replayed else None
    return JSONResponse(_changed(item_id, consumed.balance), headers=headers)
