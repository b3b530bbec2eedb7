"""The Payouts page: the Stripe balance (available and pending per currency), the payouts to
the bank with their status and arrival date, and one payout with the balance transactions it
paid out. Read from Stripe through the gateway (``services/admin/payouts``), for every role;
in test mode there is no Stripe, which the page says instead of a table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from plangate.errors import PlangateError
from plangate.services.admin import payouts
from plangate.web.dashboard.auth import context_of, current_visit
from plangate.web.dashboard.respond import page, refused, to_login

router = APIRouter(prefix="/payouts")
PAGE_SIZE = 25


@router.get("")
def payouts_page(request: Request) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    gateway = context_of(request).gateway
    found: dict[str, Any] = {"balance": None, "rows": [], "next_cursor": None,
                             "test_mode": False, "error": None}
    status = 200
    try:
        found["balance"] = payouts.read_balance(gateway)
        found["rows"], found["next_cursor"] = payouts.list_payouts(
            gateway, limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None)
    except PlangateError as exc:
        if exc.code == "test_mode":
            found["test_mode"] = True
        else:
            found["error"], status = exc.message, exc.status
    return page(request, visit, "dashboard/payouts.html", {**found, "section": "payouts"},
                status)


@router.get("/{payout_id}")
def payout_page(request: Request, payout_id: str) -> Response:
    visit = current_visit(request)
    if visit is None:
        return to_login(request)
    try:
        found = payouts.read_payout(context_of(request).gateway, payout_id)
    except PlangateError as exc:
        return refused(request, visit, exc.message, exc.status)
    return page(request, visit, "dashboard/payout.html", {"p": found, "section": "payouts"})
