"""The billing calls as data (:mod:`plangate_sdk.calls` has the rest): the portal, cards,
invoices, transactions, refunds and usage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from plangate_sdk.calls import Call, Params, _post, _present, _with_key, customer_path
from plangate_sdk.models import (
    BillingDetailsOut,
    BillingOut,
    InvoiceList,
    PortalOut,
    RefundOut,
    RefundReason,
    SetupOut,
    TransactionList,
    UsageOut,
    UsageRecordOut,
)


def portal_session(
    customer_type: str, customer_id: str, return_url: str, *, idempotency_key: str | None
) -> Call[PortalOut]:
    path = customer_path(customer_type, customer_id) + "/portal-sessions"
    return _post(path, PortalOut.model_validate, {"return_url": return_url}, idempotency_key)


def billing(customer_type: str, customer_id: str) -> Call[BillingOut]:
    return Call(
        "GET", customer_path(customer_type, customer_id) + "/billing", BillingOut.model_validate
    )


def billing_details(customer_type: str, customer_id: str) -> Call[BillingDetailsOut]:
    path = customer_path(customer_type, customer_id) + "/billing-details"
    return Call("GET", path, BillingDetailsOut.model_validate)


def set_billing_details(
    customer_type: str,
    customer_id: str,
    *,
    address: Mapping[str, str | None] | None,
    name: str | None,
    tax_ids: Sequence[Mapping[str, str]],
    idempotency_key: str | None,
) -> Call[BillingDetailsOut]:
    path = customer_path(customer_type, customer_id) + "/billing-details"
    body = {"address": dict(address) if address else None, "name": name,
            "tax_ids": [dict(t) for t in tax_ids]}
    call = Call("PUT", path, BillingDetailsOut.model_validate, json=body)
    return _with_key(call, idempotency_key)


def create_setup_intent(
    customer_type: str, customer_id: str, *, return_url: str | None, idempotency_key: str | None
) -> Call[SetupOut]:
    path = customer_path(customer_type, customer_id) + "/setup-intents"
    return _post(path, SetupOut.model_validate, _present(return_url=return_url), idempotency_key)


def set_default_payment_method(
    customer_type: str, customer_id: str, payment_method_id: str, *, idempotency_key: str | None
) -> Call[BillingOut]:
    path = customer_path(customer_type, customer_id) + "/payment-methods/default"
    body = {"payment_method_id": payment_method_id}
    return _post(path, BillingOut.model_validate, body, idempotency_key)


def invoices(
    customer_type: str, customer_id: str, *, limit: int | None, cursor: str | None
) -> Call[InvoiceList]:
    params: Params = _present(limit=limit, cursor=cursor)
    path = customer_path(customer_type, customer_id) + "/invoices"
    return Call("GET", path, InvoiceList.model_validate, params=params)


def transactions(
    *,
    customer_type: str | None,
    customer_id: str | None,
    type: str | None,  # noqa: A002 - the API's name
    limit: int | None,
    cursor: str | None,
) -> Call[TransactionList]:
    if (customer_type is None) != (customer_id is None):
        raise ValueError("give both customer_type and customer_id, or neither")
    params: Params = _present(
        customer_type=customer_type, customer_id=customer_id, type=type, limit=limit, cursor=cursor
    )
    return Call("GET", "/v1/transactions", TransactionList.model_validate, params=params)


def refund(
    *,
    payment_intent_id: str | None,
    invoice_id: str | None,
    transaction_id: str | None,
    amount: int | None,
    amount_decimal: str | None,
    currency: str | None,
    reason: RefundReason | None,
    idempotency_key: str | None,
) -> Call[RefundOut]:
    body = _present(
        payment_intent_id=payment_intent_id,
        invoice_id=invoice_id,
        transaction_id=transaction_id,
        amount=amount,
        amount_decimal=amount_decimal,
        currency=currency,
        reason=reason,
    )
    return _post("/v1/refunds", RefundOut.model_validate, body, idempotency_key)


def record_usage(
    customer_type: str,
    customer_id: str,
    meter: str,
    quantity: int,
    event_id: str,
    *,
    user_id: str | None,
    occurred_at: datetime | None,
    idempotency_key: str | None,
) -> Call[UsageRecordOut]:
    body: Params = {"meter": meter, "quantity": quantity, "event_id": event_id}
    body.update(_present(user_id=user_id, occurred_at=occurred_at.isoformat()
                         if occurred_at is not None else None))
    path = customer_path(customer_type, customer_id) + "/usage"
    return _post(path, UsageRecordOut.model_validate, body, idempotency_key)


def usage(customer_type: str, customer_id: str) -> Call[UsageOut]:
    return Call(
        "GET", customer_path(customer_type, customer_id) + "/usage", UsageOut.model_validate
    )
