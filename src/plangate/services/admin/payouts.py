"""The account's balance and payouts, read from Stripe through the gateway (plangate keeps
no copy): what the admin API's ``/v1/admin/balance`` and ``/v1/admin/payouts`` answer and
the dashboard's Payouts page shows. In test mode there is no Stripe: 409 ``test_mode``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from plangate.errors import Conflict, InvalidRequest, NotFound, PlangateError
from plangate.gateways.base import Gateway, GatewayError, GatewayNotFound, StripeDict
from plangate.services.admin.paging import check_limit, decode_cursor, encode_cursor
from plangate.services.commerce.payment_errors import from_gateway

# A payout's balance transactions shown at once; Stripe's largest page.
TRANSACTIONS_SHOWN = 100


@dataclass(frozen=True)
class PayoutView:
    id: str
    amount: int
    currency: str
    status: str
    arrival_date: datetime
    created: datetime
    automatic: bool
    method: str
    description: str | None
    failure_message: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _moment(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def _refusal(exc: GatewayError, payout_id: str | None = None) -> PlangateError:
    if exc.code == "test_mode":
        return Conflict("test_mode", "the balance and payouts are Stripe's; this installation "
                        "runs in test mode (no Stripe)")
    if isinstance(exc, GatewayNotFound) and payout_id is not None:
        return NotFound("payout_not_found", f"Stripe has no payout {payout_id}",
                        param="payout_id")
    return from_gateway(exc)


def _payout(raw: StripeDict) -> PayoutView:
    return PayoutView(
        id=str(raw["id"]), amount=int(raw["amount"]), currency=str(raw["currency"]),
        status=str(raw["status"]), arrival_date=_moment(raw["arrival_date"]),
        created=_moment(raw["created"]), automatic=bool(raw.get("automatic")),
        method=str(raw.get("method") or "standard"), description=raw.get("description"),
        failure_message=raw.get("failure_message"),
    )


def _funds(entries: list[StripeDict]) -> list[dict[str, Any]]:
    return sorted(({"currency": str(e["currency"]), "amount": int(e["amount"])}
                   for e in entries), key=lambda e: e["currency"])


def read_balance(gateway: Gateway) -> dict[str, Any]:
    """``available`` and ``pending`` per currency, in minor units."""
    try:
        raw = gateway.retrieve_balance()
    except GatewayError as exc:
        raise _refusal(exc) from exc
    return {"available": _funds(raw.get("available") or []),
            "pending": _funds(raw.get("pending") or [])}


def list_payouts(
    gateway: Gateway, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[PayoutView], str | None]:
    """Payouts newest first, as Stripe lists them; the cursor names the last one shown."""
    check_limit(limit)
    after = None
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not isinstance(after, str) or not after.startswith("po_"):
            raise InvalidRequest("cursor_invalid", "the cursor is not one this list gave",
                                 param="cursor")
    try:
        rows, more = gateway.list_payouts(limit=limit, starting_after=after)
    except GatewayError as exc:
        raise _refusal(exc) from exc
    page = [_payout(row) for row in rows]
    return page, encode_cursor(page[-1].id) if more and page else None


def read_payout(gateway: Gateway, payout_id: str) -> dict[str, Any]:
    """One payout and the balance transactions it paid out (a manual payout: its own)."""
    try:
        payout = _payout(gateway.retrieve_payout(payout_id))
        rows, more = gateway.list_balance_transactions(payout=payout_id,
                                                       limit=TRANSACTIONS_SHOWN)
    except GatewayError as exc:
        raise _refusal(exc, payout_id) from exc
    transactions = [{
        "id": str(t["id"]), "type": str(t["type"]), "amount": int(t["amount"]),
        "fee": int(t["fee"]), "net": int(t["net"]), "currency": str(t["currency"]),
        "status": str(t["status"]), "created": _moment(t["created"]),
        "available_on": _moment(t["available_on"]), "source": t.get("source"),
        "description": t.get("description"),
    } for t in rows]
    return {**payout.to_dict(), "balance_transactions": transactions,
            "more_balance_transactions": more}
