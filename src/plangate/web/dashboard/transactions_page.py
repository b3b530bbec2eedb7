"""The Transactions page: payments, refunds and disputes across customers, filtered by type,
currency and day, and one transaction with its refunds and a refund form. The refund itself is
the customer page's action (``actions.py``), so both pages refund through one path."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from plangate.errors import InvalidRequest, PlangateError
from plangate.services.commerce import transactions
from plangate.services.operators import may
from plangate.web.dashboard.auth import context_of, current_visit
from plangate.web.dashboard.respond import page, refused, to_login
from plangate.web.security import new_token

router = APIRouter(prefix="/transactions")
PAGE_SIZE = 50


def _day(request: Request, name: str) -> str | None:
    """A ``YYYY-MM-DD`` filter as the start of that day in UTC."""
    text = (request.query_params.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat() + "T00:00:00+00:00"
    except ValueError:
        raise InvalidRequest("date_invalid", f"{name} must be a day (YYYY-MM-DD)",
                             param=name) from None


def _next_day(day: str | None) -> str | None:
    """The end of a ``to`` day, so the filter includes the day it names."""
    if day is None:
        return None
    start = date.fromisoformat(day[:10])
    return date.fromordinal(start.toordinal() + 1).isoformat() + "T00:00:00+00:00"


@router.get("")
def transactions_page(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    query = request.query_params
    filters = {name: (query.get(name) or "").strip()
               for name in ("type", "currency", "from", "to")}
    error = None
    try:
        if filters["currency"] and not (len(filters["currency"]) == 3
                                        and filters["currency"].isalpha()):
            raise InvalidRequest("currency_invalid", "currency must be a 3-letter code",
                                 param="currency")
        found = transactions.list_transactions(
            context_of(request).db, customer_type=None, customer_id=None,
            type_=filters["type"] or None, limit=PAGE_SIZE,
            cursor=query.get("cursor") or None,
            currency=filters["currency"] or None,
            created_from=_day(request, "from"), created_to=_next_day(_day(request, "to")),
        )
    except PlangateError as exc:
        found, error = {"data": [], "next_cursor": None}, exc.message
    return page(request, visit, "dashboard/transactions.html", {
        "rows": found["data"], "next_cursor": found["next_cursor"], "filters": filters,
        "types": transactions.TRANSACTION_TYPES, "error": error, "section": "transactions",
    }, 400 if error else 200)


@router.get("/{transaction_id}")
def transaction_page(request: Request, transaction_id: str) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    try:
        found = transactions.read_transaction(context_of(request).db, transaction_id)
    except PlangateError as exc:
        return refused(request, visit, exc.message, exc.status)
    refundable = (found["type"] == "payment" and found["status"] == "succeeded"
                  and found["amount_refunded"] < found["amount"])
    return page(request, visit, "dashboard/transaction.html", {
        "t": found, "done": request.query_params.get("done"),
        "can_refund": refundable and may(visit.operator.role, "refund"),
        "form_key": new_token(), "section": "transactions",
    })
