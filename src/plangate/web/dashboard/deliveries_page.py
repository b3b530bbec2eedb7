"""The Events page's second tab: outbound webhook deliveries (status, attempts, last error,
next attempt), and a retry of one through the events capability, audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from plangate.errors import InvalidRequest, PlangateError
from plangate.services.admin import events
from plangate.services.events.deliveries import DELIVERY_STATUSES, list_deliveries
from plangate.services.operators import may
from plangate.web.dashboard.auth import context_of, current_visit
from plangate.web.dashboard.events_page import queue_again
from plangate.web.dashboard.respond import page, refused, to_login
from plangate.web.security import new_token

router = APIRouter(prefix="/events/deliveries")
MAX_ID = 2**62


def _delivery_id(text: str | None, name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < MAX_ID:
        raise InvalidRequest(f"{name}_invalid", f"{name} must be a delivery number", param=name)
    return int(text)


@router.get("")
def deliveries_page(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    status = request.query_params.get("status") or None
    try:
        rows, next_before = list_deliveries(
            context_of(request).db, status=status,
            before_id=_delivery_id(request.query_params.get("before"), "before"),
        )
    except PlangateError as exc:
        return refused(request, visit, exc.message, exc.status)
    return page(request, visit, "dashboard/deliveries.html", {
        "rows": rows, "status": status or "", "next_before": next_before,
        "statuses": DELIVERY_STATUSES, "form_key": new_token(),
        "can_retry": may(visit.operator.role, "retry"), "section": "events",
    })


@router.post("/{delivery_id}/retry")
async def retry(request: Request, delivery_id: str) -> Response:
    def change(session: Session, actor: str, now: datetime) -> dict[str, Any]:
        number = _delivery_id(delivery_id, "delivery_id")
        assert number is not None
        return events.retry_webhook_delivery(session, number, actor=actor, now=now)

    return await queue_again(request, f"retry delivery {delivery_id}", change,
                             "/dashboard/events/deliveries?done=retry")
