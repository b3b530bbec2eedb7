"""Payouts: manual ones, from the available balance to the account's bank.

A payout takes its amount out of the available balance at once (a `payout` balance
transaction); more than is available is Stripe's 400 `balance_insufficient`. It is `pending`
until its `arrival_date`, the start of the next UTC day in real time (payouts are on no test
clock), then `paid` (`payout.updated`, `payout.paid`). A pending payout can be cancelled: the
amount comes back (`payout_cancel`). Automatic (scheduled) payouts are not made.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from . import scheduler
from .balance import DAY, available, record_payout
from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    StripeError,
    apply_metadata,
    get_enum,
    get_int,
    get_str,
    invalid,
    match_created,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
STATUSES = ("pending", "paid", "failed", "canceled", "in_transit")


def _insufficient(currency: str, have: int) -> StripeError:
    return invalid("You have insufficient funds in your Stripe account for this transfer. "
                   f"Your available {currency} balance is {have}; you can use the "
                   "/v1/balance endpoint to view your Stripe balance.", "amount",
                   code="balance_insufficient")


@router.post("/v1/payouts", "PayoutCreateParams",
             ("amount", "currency", "description", "metadata", "statement_descriptor"))
def create_payout(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    amount = get_int(p, "amount", required=True, minimum=1) or 0
    currency = (get_str(p, "currency", required=True) or "").lower()
    have = available(sb, currency)
    if amount > have:
        raise _insufficient(currency, have)
    now = sb.real_now()
    payout: Obj = {
        "id": new_id("po"), "object": "payout", "amount": amount, "application_fee": None,
        "application_fee_amount": None, "arrival_date": (now // DAY + 1) * DAY,
        "automatic": False, "balance_transaction": None, "created": now,
        "currency": currency, "description": get_str(p, "description") or "STRIPE PAYOUT",
        "destination": None, "failure_balance_transaction": None, "failure_code": None,
        "failure_message": None, "livemode": False, "metadata": {}, "method": "standard",
        "original_payout": None, "payout_method": None,
        "reconciliation_status": "not_applicable", "reversed_by": None, "source_type": "card",
        "statement_descriptor": get_str(p, "statement_descriptor"), "status": "pending",
        "trace_id": {"status": "pending", "value": None}, "type": "bank_account",
    }
    apply_metadata(payout, p)
    txn = record_payout(sb, payout, "payout", -1)
    payout["balance_transaction"] = txn["id"]
    sb.store.put(payout)
    sb.emit("payout.created", payout)
    return payout


@router.get("/v1/payouts/{id}", "PayoutRetrieveParams")
def retrieve_payout(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("payout", id)


@router.get("/v1/payouts", "PayoutListParams", (*PAGE, "created", "status"))
def list_payouts(sb: Sandbox, req: ApiRequest) -> Obj:
    status = get_enum(req.params, "status", STATUSES)
    items = [po for po in sb.store.all("payout")
             if match_created(po, req.params) and (status is None or po["status"] == status)]
    return paginate(items, req.params, "/v1/payouts")


@router.post("/v1/payouts/{id}/cancel", "PayoutCancelParams")
def cancel_payout(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    payout = sb.get("payout", id)
    if payout["status"] != "pending":
        raise StripeError(400, "invalid_request_error",
                          f"Payout {id} cannot be canceled because it has a status of "
                          f"{payout['status']}; only pending payouts can be canceled.")
    before = sb.snapshot(payout)
    txn = record_payout(sb, payout, "payout_cancel", 1)
    payout.update(status="canceled", failure_balance_transaction=txn["id"],
                  reconciliation_status="completed")
    sb.store.put(payout)
    sb.emit("payout.updated", payout, before)
    sb.emit("payout.canceled", payout)
    return payout


def _arrive(sb: Sandbox, payout: Obj, at: int) -> None:
    before = sb.snapshot(payout)
    payout.update(status="paid", reconciliation_status="completed",
                  trace_id={"status": "supported", "value": None})
    sb.store.put(payout)
    sb.emit("payout.updated", payout, before)
    sb.emit("payout.paid", payout)


@scheduler.source("payout", lambda sb, payout: None)
def payout_work(sb: Sandbox, payout: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    if payout["status"] == "pending":
        yield int(payout["arrival_date"]), 7, partial(_arrive, sb, payout)
