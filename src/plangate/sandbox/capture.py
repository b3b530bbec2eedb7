"""Separate authorization and capture: `capture_method=manual` and
`POST /v1/payment_intents/{id}/capture`.

A confirmed manual PaymentIntent holds the amount (`requires_capture`, an uncaptured charge);
capturing takes all of it or `amount_to_capture`, and the rest is released, as on Stripe
(the charge shows it as refunded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .balance import record_charge
from .disputes import mark_if_disputed
from .payments import card_of
from .router import ApiRequest, Router
from .wire import Obj, apply_metadata, get_int, invalid, new_id

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")


def hold(sb: Sandbox, pi: Obj, charge: Obj) -> None:
    """A successful authorization of a manual PaymentIntent: nothing is captured yet."""
    charge.update(captured=False, amount_captured=0, balance_transaction=None)
    sb.store.put(charge)
    pi.update(status="requires_capture", amount_capturable=pi["amount"], amount_received=0,
              last_payment_error=None)
    sb.store.put(pi)
    sb.emit("charge.succeeded", charge)
    sb.emit("payment_intent.amount_capturable_updated", pi)


def release(sb: Sandbox, pi: Obj) -> None:
    """Cancelling a held PaymentIntent gives the whole authorization back."""
    if pi["status"] != "requires_capture" or pi["latest_charge"] is None:
        return
    charge = sb.get("charge", pi["latest_charge"])
    charge.update(amount_refunded=charge["amount"], refunded=True)
    sb.store.put(charge)
    pi["amount_capturable"] = 0


@router.post("/v1/payment_intents/{id}/capture", "PaymentIntentCaptureParams",
             ("amount_to_capture", "metadata"))
def capture_payment_intent(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    pi = sb.get("payment_intent", id, "payment_intent")
    if pi["status"] != "requires_capture":
        raise invalid(
            f"This PaymentIntent could not be captured because it has a status of "
            f"{pi['status']}. Only a PaymentIntent with one of the following statuses may be "
            "captured: requires_capture.", code="payment_intent_unexpected_state")
    capturable = int(pi["amount_capturable"])
    amount = get_int(req.params, "amount_to_capture", minimum=1)
    amount = capturable if amount is None else amount
    if amount > capturable:
        raise invalid("The amount to capture must be less than or equal to the amount "
                      f"capturable ({capturable}).", "amount_to_capture",
                      code="amount_too_large")
    charge = sb.get("charge", pi["latest_charge"])
    charge.update(captured=True, amount_captured=amount, balance_transaction=new_id("txn"),
                  amount_refunded=charge["amount"] - amount)
    sb.store.put(charge)
    record_charge(sb, charge)
    pm = sb.get("payment_method", charge["payment_method"])
    mark_if_disputed(sb, charge, card_of(pm).dispute)
    apply_metadata(pi, req.params)
    pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
    sb.store.put(pi)
    sb.emit("charge.captured", charge)
    sb.emit("payment_intent.succeeded", pi)
    return pi
