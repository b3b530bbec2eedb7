"""The account's balance and its balance transactions.

Every captured charge adds a `charge` transaction: the amount, Stripe's card fee (2.9% of the
amount rounded half up to the minor unit, plus 30 minor units) and the net. It is `pending`
until `available_on`, the start of the UTC day two days after the charge (the account's
`settings.payouts.schedule.delay_days`), on the charge's clock: a test clock's advance, or
real time, makes it `available` and sends `balance.available`. A refund adds a `refund`
transaction of minus its amount (no fee returned), available at once, as a payout does (minus
its amount) and a cancelled payout (`payout_cancel`, giving it back). The balance sums the
nets per currency and status.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from . import scheduler
from .router import PAGE, ApiRequest, Router
from .wire import Obj, get_str, match_created, new_id, paginate

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
KIND = "balance_transaction"
DAY = 86400
DELAY_DAYS = 2
# Stripe's standard card pricing in the US: 2.9% + 30 in minor units.
FEE_PER_MILLE = 29
FEE_FIXED = 30
_CATEGORY = {"charge": "charge", "refund": "refund", "payout": "payout",
             "payout_cancel": "payout_reversal"}
_DESCRIPTION = {"charge": "Payment", "refund": "REFUND FOR CHARGE",
                "payout": "STRIPE PAYOUT", "payout_cancel": "Payout cancellation"}


def card_fee(amount: int) -> int:
    """2.9% of `amount` rounded half up, plus 30 (integers only)."""
    return (amount * FEE_PER_MILLE * 2 + 1000) // 2000 + FEE_FIXED


def _record(sb: Sandbox, txn_id: str | None, type_: str, amount: int, currency: str,
            source: str, created: int, *, fee: int = 0, clock: str | None = None,
            available_on: int | None = None, description: str | None = None) -> Obj:
    fee_details = [] if fee == 0 else [{
        "amount": fee, "application": None, "currency": currency,
        "description": "Stripe processing fees", "type": "stripe_fee"}]
    available_on = created if available_on is None else available_on
    txn: Obj = {
        "id": txn_id or new_id("txn"), "object": KIND, "amount": amount,
        "available_on": available_on, "balance_type": "payments", "created": created,
        "currency": currency, "description": description or _DESCRIPTION.get(type_),
        "exchange_rate": None, "fee": fee, "fee_details": fee_details, "net": amount - fee,
        "reporting_category": _CATEGORY.get(type_, type_), "source": source,
        "status": "available" if available_on <= created else "pending", "type": type_,
        "_clock": clock,
    }
    sb.store.put(txn)
    return txn


def record_charge(sb: Sandbox, charge: Obj) -> Obj:
    """The captured part of a charge enters the balance (under the charge's
    `balance_transaction` id)."""
    created = sb.now(charge)
    available_on = (created // DAY + DELAY_DAYS) * DAY
    amount = int(charge["amount_captured"])
    return _record(sb, charge["balance_transaction"], "charge", amount, charge["currency"],
                   charge["id"], created, fee=card_fee(amount), clock=sb.clock_id_of(charge),
                   available_on=available_on, description=charge.get("description"))


def record_refund(sb: Sandbox, refund: Obj) -> Obj:
    return _record(sb, refund["balance_transaction"], "refund", -int(refund["amount"]),
                   refund["currency"], refund["id"], sb.now(refund),
                   clock=sb.clock_id_of(refund))


def record_payout(sb: Sandbox, payout: Obj, type_: str, sign: int) -> Obj:
    return _record(sb, None, type_, sign * int(payout["amount"]), payout["currency"],
                   payout["id"], sb.real_now())


def balance(sb: Sandbox) -> Obj:
    sums: dict[str, dict[str, int]] = {}
    for txn in sb.store.all(KIND):
        per = sums.setdefault(txn["currency"], {"available": 0, "pending": 0})
        per[txn["status"]] += int(txn["net"])
    currencies = sorted(sums) or ["usd"]

    def funds(status: str) -> list[Obj]:
        return [{"amount": sums.get(c, {}).get(status, 0), "currency": c,
                 "source_types": {"card": sums.get(c, {}).get(status, 0)}}
                for c in currencies]

    return {"object": "balance", "available": funds("available"),
            "connect_reserved": [{"amount": 0, "currency": c} for c in currencies],
            "livemode": False, "pending": funds("pending")}


def available(sb: Sandbox, currency: str) -> int:
    return sum(int(t["net"]) for t in sb.store.all(KIND)
               if t["currency"] == currency and t["status"] == "available")


def _make_available(sb: Sandbox, txn: Obj, at: int) -> None:
    txn["status"] = "available"
    sb.store.put(txn)
    sb.emit("balance.available", balance(sb))


@scheduler.source(KIND, lambda sb, txn: txn.get("_clock"))
def balance_work(sb: Sandbox, txn: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    if txn["status"] == "pending":
        yield int(txn["available_on"]), 6, partial(_make_available, sb, txn)


@router.get("/v1/balance", "BalanceRetrieveParams")
def retrieve_balance(sb: Sandbox, req: ApiRequest) -> Obj:
    return balance(sb)


@router.get("/v1/balance_transactions/{id}", "BalanceTransactionRetrieveParams")
def retrieve_balance_transaction(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get(KIND, id, "balance transaction")


@router.get("/v1/balance_transactions", "BalanceTransactionListParams",
            (*PAGE, "created", "currency", "payout", "source", "type"))
def list_balance_transactions(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    type_ = get_str(p, "type")
    currency = (get_str(p, "currency") or "").lower() or None
    source = get_str(p, "source")
    payout_id = get_str(p, "payout")
    if payout_id is not None:
        sb.get("payout", payout_id, param="payout")
    items = [
        t for t in sb.store.all(KIND)
        if match_created(t, p) and (type_ is None or t["type"] == type_)
        and (currency is None or t["currency"] == currency)
        and (source is None or t["source"] == source)
        and (payout_id is None or payout_id in (t["source"], t.get("_payout")))
    ]
    return paginate(items, p, "/v1/balance_transactions")
