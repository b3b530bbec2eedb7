"""Line conflicts: Stripe subscriptions the sync refused to let grant (server only)."""

from __future__ import annotations

from fastapi import APIRouter

from plangate.api.deps import Context, CustomerPath, ServerCaller
from plangate.api.schemas import LineConflictList, LineConflictOut
from plangate.services.stripe_sync import conflicts

router = APIRouter(prefix="/v1/customers/{customer_type}/{customer_id}", tags=["conflicts"])


@router.get("/conflicts", response_model=LineConflictList)
def list_conflicts(ref: CustomerPath, ctx: Context, _: ServerCaller) -> LineConflictList:
    """Second subscriptions in a line and subscriptions to products the customer may not
    own, newest first, with what was done about each."""
    found = conflicts.list_conflicts(ctx.db, ref)
    return LineConflictList(data=[LineConflictOut(**c.to_dict()) for c in found])
