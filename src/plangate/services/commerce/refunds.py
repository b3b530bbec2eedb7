"""Refunds through Stripe (the sync records them), and the checks every refund shares (the
test backend's refunds of test-mode payments use them too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from plangate.domain.money import MoneyError, from_minor_units, get_currency, to_minor_units
from plangate.errors import Conflict, InvalidRequest, NotFound
from plangate.gateways.base import GatewayError, GatewayNotFound
from plangate.gateways.stripe_client import META_CUSTOMER_ID, META_CUSTOMER_TYPE
from plangate.services.commerce.billing import Deps, money_fields
from plangate.services.commerce.payment_errors import from_gateway, gateway_idempotency_key
from plangate.services.commerce.stripe_customers import customer_by_stripe_id
from plangate.services.commerce.transactions import parse_transaction_id
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.models import Transaction

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


@dataclass(frozen=True)
class RefundRequest:
    payment_intent_id: str | None = None
    invoice_id: str | None = None
    transaction_id: str | None = None
    # Integer minor units, or a decimal string with its currency; neither: the full rest.
    amount: int | None = None
    amount_decimal: str | None = None
    currency: str | None = None
    reason: str | None = None
    idempotency_scope: str | None = None


def refund_amount(request: RefundRequest, currency: str, refundable: int) -> int:
    """The amount to refund in minor units, checked against what is left to refund."""
    if refundable <= 0:
        raise Conflict("charge_already_refunded", "this payment is already refunded in full")
    if request.amount_decimal is not None:
        if request.currency is None:
            raise InvalidRequest(
                "parameter_missing", "amount_decimal needs its currency", param="currency"
            )
        if get_currency(request.currency).code != currency:
            raise InvalidRequest(
                "currency_mismatch",
                f"the payment is in {currency.upper()}, not {request.currency.upper()}",
                param="currency",
            )
        try:
            amount = to_minor_units(request.amount_decimal, currency)
        except MoneyError as exc:
            raise InvalidRequest(exc.code, exc.message, param="amount_decimal") from exc
    else:
        amount = request.amount if request.amount is not None else refundable
    if not 1 <= amount <= refundable:
        raise InvalidRequest(
            "refund_amount_invalid",
            f"a refund of this payment must be 1 to {refundable} minor units "
            f"({from_minor_units(refundable, currency)} {currency.upper()})",
            param="amount_decimal" if request.amount_decimal is not None else "amount",
            refundable=refundable,
        )
    return amount


def check_refund_request(request: RefundRequest) -> str:
    """Checks the request's shape; answers the name of the field naming the payment."""
    given = [
        name
        for name in ("payment_intent_id", "invoice_id", "transaction_id")
        if getattr(request, name) is not None
    ]
    if len(given) != 1:
        raise InvalidRequest(
            "refund_target_invalid",
            "give exactly one of payment_intent_id, invoice_id or transaction_id",
            param="payment_intent_id",
        )
    if request.amount is not None and request.amount_decimal is not None:
        raise InvalidRequest(
            "parameter_invalid", "give amount or amount_decimal, not both", param="amount"
        )
    if request.reason is not None and request.reason not in REFUND_REASONS:
        raise InvalidRequest(
            "parameter_invalid",
            f"reason must be one of {', '.join(REFUND_REASONS)}",
            param="reason",
        )
    return given[0]


def payment_row(session: Session, txn: str, *, lock: bool = False) -> Transaction:
    row = session.get(
        Transaction, parse_transaction_id(txn, "transaction_id"), with_for_update=lock
    )
    if row is None:
        raise NotFound("transaction_not_found", f"no transaction {txn!r}", param="transaction_id")
    if row.type != "payment":
        raise InvalidRequest(
            "transaction_not_refundable",
            f"{txn} is a {row.type}; only payments are refunded",
            param="transaction_id",
        )
    return row


def refund_view(
    refund: dict[str, Any], ref: CustomerRef | None, transaction: str | None
) -> dict[str, Any]:
    currency = str(refund["currency"])
    return {
        "object": "refund",
        "id": refund["id"],
        "status": refund.get("status"),
        "currency": currency,
        **money_fields(int(refund["amount"]), currency, "amount"),
        "payment_intent_id": refund.get("payment_intent"),
        "charge_id": refund.get("charge"),
        "customer_type": ref.type if ref else None,
        "customer_id": ref.id if ref else None,
        "transaction_id": transaction,
    }


def _payment_intent_of(deps: Deps, request: RefundRequest) -> str:
    if request.payment_intent_id is not None:
        return request.payment_intent_id
    if request.invoice_id is not None:
        found = deps.gateway.invoice_payment_intent(request.invoice_id)
        if found is None:
            raise Conflict(
                "invoice_not_paid", "the invoice has no successful payment", param="invoice_id"
            )
        return found
    assert request.transaction_id is not None
    with deps.db.read() as session:
        row = payment_row(session, request.transaction_id)
        if row.payment_intent_id is None:
            raise InvalidRequest(
                "transaction_not_refundable",
                f"{request.transaction_id} has no payment intent to refund",
                param="transaction_id",
            )
        return row.payment_intent_id


def refund_on_stripe(deps: Deps, request: RefundRequest) -> dict[str, Any]:
    """Refunds a payment of a plangate customer through Stripe. The refund's Transaction row
    comes from the sync (refund and charge webhooks), like every Stripe-derived state."""
    param = check_refund_request(request)
    gateway = deps.gateway

    def refund() -> dict[str, Any]:
        intent_id = _payment_intent_of(deps, request)
        intent = gateway.retrieve_payment_intent(intent_id)
        with deps.db.read() as session:
            owner = customer_by_stripe_id(session, str(intent.get("customer") or ""))
            ref = CustomerRef(owner.customer_type, owner.customer_id) if owner else None
        charge_id = intent.get("latest_charge")
        if ref is None or intent.get("status") != "succeeded" or not charge_id:
            raise NotFound(
                "payment_not_found",
                "no successful payment of a plangate customer there",
                param=param,
            )
        charge = gateway.retrieve_charge(str(charge_id))
        currency = str(charge["currency"])
        refundable = int(charge["amount"]) - int(charge.get("amount_refunded") or 0)
        amount = refund_amount(request, currency, refundable)
        params: dict[str, Any] = {
            "payment_intent": intent_id,
            "amount": amount,
            "metadata": {META_CUSTOMER_TYPE: ref.type, META_CUSTOMER_ID: ref.id},
        }
        if request.reason:
            params["reason"] = request.reason
        created = gateway.create_refund(
            params, idempotency_key=gateway_idempotency_key(request.idempotency_scope, "refund")
        )
        return refund_view(created, ref, None)

    try:
        return refund()
    except GatewayNotFound as exc:
        raise NotFound("payment_not_found", str(exc), param=param) from exc
    except GatewayError as exc:
        raise from_gateway(exc, param=param) from exc
