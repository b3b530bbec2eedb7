"""The balance, balance transactions and payouts through the official SDK: card fees,
pending funds becoming available (real time and test clocks), refunds, manual payouts and
their cancellation, key sets checked against Stripe's fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from sandbox_harness import MovableTime, Running, start
from test_shapes import assert_shape

from plangate.sandbox import SandboxConfig

DAY = 86400
T0 = 1768435200 + 5 * 3600  # 05:00 UTC on a day


@pytest.fixture
def clock() -> MovableTime:
    return MovableTime(T0)


@pytest.fixture
def timed(clock: MovableTime) -> Iterator[Running]:
    r = start(SandboxConfig(tick_seconds=3600, time_source=clock))
    yield r
    r.stop()


def _pay(client: stripe.StripeClient, amount: int, currency: str = "usd",
         customer: str | None = None) -> stripe.Charge:
    params: Any = {"amount": amount, "currency": currency, "payment_method": "pm_card_visa",
                   "confirm": True}
    if customer:
        params["customer"] = customer
    pi = client.v1.payment_intents.create(params)
    return client.v1.charges.retrieve(str(pi.latest_charge))


def _balance(client: stripe.StripeClient, currency: str = "usd") -> tuple[int, int]:
    bal = client.v1.balance.retrieve()
    avail = next(f.amount for f in bal.available if f.currency == currency)
    pending = next(f.amount for f in bal.pending if f.currency == currency)
    return avail, pending


def test_a_charge_is_pending_net_of_stripes_fee_until_available_on(
        timed: Running, clock: MovableTime, fixtures: dict[str, Any]) -> None:
    client = timed.client()
    assert _balance(client) == (0, 0)
    charge = _pay(client, 1500)
    txn = client.v1.balance_transactions.retrieve(str(charge.balance_transaction))
    assert_shape(txn.to_dict(), "balance_transaction", stripe.BalanceTransaction, fixtures)
    # 2.9% of 1500 is 43.5, rounded half up to 44, plus 30.
    assert (txn.type, txn.amount, txn.fee, txn.net) == ("charge", 1500, 74, 1426)
    assert txn.fee_details[0].type == "stripe_fee" and txn.fee_details[0].amount == 74
    assert txn.status == "pending" and txn.source == charge.id
    assert txn.available_on == (T0 // DAY + 2) * DAY
    bal = client.v1.balance.retrieve()
    assert_shape(bal.to_dict(), "balance", stripe.Balance, fixtures)
    assert _balance(client) == (0, 1426)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create({"amount": 1, "currency": "usd"})
    assert exc.value.code == "balance_insufficient" and exc.value.http_status == 400
    assert client.v1.payouts.list().data == []

    clock.now = txn.available_on - 1
    timed.sandbox.process_due()
    assert client.v1.balance_transactions.retrieve(txn.id).status == "pending"
    clock.now = txn.available_on
    timed.sandbox.process_due()
    assert client.v1.balance_transactions.retrieve(txn.id).status == "available"
    assert _balance(client) == (1426, 0)
    event = client.v1.events.list({"type": "balance.available"}).data[0]
    assert event.data.object["available"][0]["amount"] == 1426


def test_refunds_payouts_and_cancellations_move_the_available_balance(
        timed: Running, clock: MovableTime, fixtures: dict[str, Any]) -> None:
    client = timed.client()
    charge = _pay(client, 1000)  # fee 29 + 30
    _pay(client, 2000, "eur")  # another currency, kept apart
    clock.now += 3 * DAY
    timed.sandbox.process_due()
    assert _balance(client) == (941, 0)
    refund = client.v1.refunds.create({"charge": charge.id, "amount": 200})
    re_txn = client.v1.balance_transactions.retrieve(str(refund.balance_transaction))
    assert (re_txn.type, re_txn.amount, re_txn.fee, re_txn.net, re_txn.status) == (
        "refund", -200, 0, -200, "available")
    assert _balance(client) == (741, 0)

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create({"amount": 742, "currency": "usd"})
    assert exc.value.code == "balance_insufficient"
    payout = client.v1.payouts.create({"amount": 500, "currency": "usd",
                                       "metadata": {"run": "1"}})
    assert_shape(payout.to_dict(), "payout", stripe.Payout, fixtures)
    assert (payout.status, payout.automatic, payout.amount) == ("pending", False, 500)
    assert payout.arrival_date == (int(clock.now) // DAY + 1) * DAY
    assert _balance(client) == (241, 0)
    po_txn = client.v1.balance_transactions.retrieve(str(payout.balance_transaction))
    assert (po_txn.type, po_txn.net, po_txn.source) == ("payout", -500, payout.id)

    second = client.v1.payouts.create({"amount": 41, "currency": "usd"})
    canceled = client.v1.payouts.cancel(second.id)
    assert canceled.status == "canceled"
    assert _balance(client) == (241, 0)
    back = client.v1.balance_transactions.retrieve(str(canceled.failure_balance_transaction))
    assert (back.type, back.net, back.reporting_category) == ("payout_cancel", 41,
                                                              "payout_reversal")

    listed = client.v1.balance_transactions.list
    assert [t.type for t in listed({"currency": "usd"}).data] == [
        "payout_cancel", "payout", "payout", "refund", "charge"]
    assert [t.id for t in listed({"type": "refund"}).data] == [re_txn.id]
    assert [t.id for t in listed({"source": charge.id}).data] == [charge.balance_transaction]
    assert [t.id for t in listed({"payout": payout.id}).data] == [po_txn.id]
    assert len(listed({"currency": "eur"}).data) == 1
    assert listed({"created": {"lt": T0 + 1}}).data[-1].id == charge.balance_transaction
    assert [t.type for t in listed({"limit": 2}).data] == ["payout_cancel", "payout"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        listed({"payout": "po_missing"})
    assert exc.value.http_status == 404

    clock.now = payout.arrival_date
    timed.sandbox.process_due()
    paid = client.v1.payouts.retrieve(payout.id)
    assert paid.status == "paid"
    assert [p.id for p in client.v1.payouts.list({"status": "paid"}).data] == [payout.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.cancel(payout.id)
    assert exc.value.http_status == 400 and "status of paid" in str(exc.value.user_message)
    types = [e.type for e in client.v1.events.list({"type": "payout.*"}).data]
    assert types.count("payout.created") == 2 and "payout.paid" in types
    assert "payout.canceled" in types


def test_on_a_test_clock_funds_become_available_when_the_clock_advances(
        client: stripe.StripeClient) -> None:
    test_clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    cus = client.v1.customers.create({"test_clock": test_clock.id})
    charge = _pay(client, 5000, customer=cus.id)
    txn = client.v1.balance_transactions.retrieve(str(charge.balance_transaction))
    assert txn.created == T0 and txn.status == "pending"
    client.v1.test_helpers.test_clocks.advance(test_clock.id,
                                               {"frozen_time": txn.available_on + 60})
    assert client.v1.balance_transactions.retrieve(txn.id).status == "available"
    assert client.v1.payouts.create({"amount": 5000 - 175, "currency": "usd"}).amount == 4825


def test_unimplemented_payout_parameters_are_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payouts.create({"amount": 1, "currency": "usd", "method": "instant"})
    assert exc.value.code == "parameter_not_implemented" and exc.value.param == "method"
