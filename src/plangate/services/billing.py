"""Billing: the customer's payment details at Stripe (portal, cards, invoices) and the money
that moved (transactions, refunds).

Invoices and cards are read from Stripe on demand: they are Stripe's, and plangate keeps no
copy to go stale. Transactions are plangate's record, written by the sync. Amounts leave as
integer minor units with a decimal string beside them (invariant 1).

Test mode (``PLANGATE_GATEWAY=test``) has no Stripe customer: the portal link is the return
URL itself, there are no cards or invoices, and refunds work on the test payments that
test-mode purchases record (services/test_mode.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.money import MoneyError, from_minor_units, get_currency, to_minor_units
from plangate.errors import Conflict, InvalidRequest, NotFound
from plangate.gateways.base import Gateway, GatewayError, GatewayNotFound, StripeDict
from plangate.gateways.stripe_client import META_CUSTOMER_ID, META_CUSTOMER_TYPE
from plangate.services import test_mode
from plangate.services.customers import CustomerRef, customer_ref
from plangate.services.payment_errors import from_gateway, gateway_idempotency_key
from plangate.services.redirects import validate_redirect_url
from plangate.services.stripe_customers import customer_by_stripe_id, ensure_stripe_customer
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import Customer, Transaction

TRANSACTION_TYPES = ("payment", "refund", "dispute")
TRANSACTION_PREFIX = "txn_"
ENDED_SUBSCRIPTIONS = frozenset({"canceled", "incomplete_expired"})
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

T = TypeVar("T")


@dataclass(frozen=True)
class Deps:
    db: Database
    gateway: Gateway
    settings: Settings

    @property
    def test_mode(self) -> bool:
        return self.gateway.name == "test"


def _iso(unix: Any) -> str | None:
    return datetime.fromtimestamp(int(unix), UTC).isoformat() if unix else None


def _money(units: int, currency: str, name: str) -> dict[str, Any]:
    return {name: units, f"{name}_decimal": from_minor_units(units, currency)}


def invoice_summary(invoice: Any) -> dict[str, Any] | None:
    """An invoice as the API shows it: integer minor units and decimal strings."""
    if not isinstance(invoice, dict):
        return None
    currency = str(invoice.get("currency") or "usd")
    amounts: dict[str, Any] = {}
    for name in ("total", "amount_due", "amount_paid", "amount_remaining"):
        amounts.update(_money(int(invoice.get(name) or 0), currency, name))
    return {
        "id": invoice.get("id"),
        "number": invoice.get("number"),
        "status": invoice.get("status"),
        "billing_reason": invoice.get("billing_reason"),
        "currency": currency,
        **amounts,
        "hosted_invoice_url": invoice.get("hosted_invoice_url"),
        "created": _iso(invoice.get("created")),
        "period_start": _iso(invoice.get("period_start")),
        "period_end": _iso(invoice.get("period_end")),
    }


def _gateway_call(call: Callable[[], T], *, param: str | None = None) -> T:
    """Runs gateway calls, turning their failures into API errors with stable codes."""
    try:
        return call()
    except GatewayError as exc:
        raise from_gateway(exc, param=param) from exc


def stripe_customer_id(db: Database, ref: CustomerRef) -> str | None:
    with db.read() as session:
        row = session.get(Customer, (ref.type, ref.id))
        return row.stripe_customer_id if row is not None else None


def _require_stripe_customer(deps: Deps, ref: CustomerRef) -> str:
    found = stripe_customer_id(deps.db, ref)
    if found is None:
        raise Conflict(
            "payment_customer_missing",
            f"{ref} has no payment customer yet: one is made by its first checkout or saved card",
        )
    return found


# --- portal ------------------------------------------------------------------------------------


def portal_url(deps: Deps, ref: CustomerRef, return_url: str, scope: str | None) -> str:
    """Stripe's billing portal for the customer; in test mode the return URL itself."""
    validate_redirect_url(return_url, deps.settings, param="return_url")
    if deps.test_mode:
        return return_url
    customer = _require_stripe_customer(deps, ref)
    return _gateway_call(
        lambda: deps.gateway.create_portal_session(
            customer, return_url, idempotency_key=gateway_idempotency_key(scope, "portal")
        )
    )


# --- cards -----------------------------------------------------------------------------------


def _card(method: StripeDict | None, *, default_id: str | None = None) -> dict[str, Any] | None:
    if not method:
        return None
    card = method.get("card") or {}
    out: dict[str, Any] = {
        "id": method.get("id"),
        "brand": card.get("brand"),
        "last4": card.get("last4"),
        "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"),
    }
    if default_id is not None:
        out["default"] = method.get("id") == default_id
    return out


def _default_method_id(gateway: Gateway, customer: StripeDict) -> str | None:
    """The card renewals charge: the customer's default, else a running subscription's own
    (Checkout sets the subscription's, not the customer's)."""
    settings = customer.get("invoice_settings") or {}
    default = settings.get("default_payment_method")
    if default:
        return str(default.get("id") if isinstance(default, dict) else default)
    for sub in gateway.list_subscriptions(str(customer["id"])):
        method = sub.get("default_payment_method")
        if method and sub.get("status") not in ENDED_SUBSCRIPTIONS:
            return str(method.get("id") if isinstance(method, dict) else method)
    return None


def billing_details(deps: Deps, ref: CustomerRef) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "has_payment_customer": False,
        "default_payment_method": None,
        "payment_methods": [],
    }
    customer_id = None if deps.test_mode else stripe_customer_id(deps.db, ref)
    if customer_id is None:
        return empty
    gateway = deps.gateway

    def read() -> dict[str, Any]:
        customer = gateway.retrieve_customer(customer_id)
        default_id = _default_method_id(gateway, customer)
        methods = list(gateway.list_payment_methods(customer_id))
        default = next((m for m in methods if m.get("id") == default_id), None)
        if default is None and default_id is not None:
            default = gateway.retrieve_payment_method(default_id)
        return {
            "has_payment_customer": True,
            "default_payment_method": _card(default),
            "payment_methods": [_card(m, default_id=default_id or "") for m in methods],
        }

    return _gateway_call(read)


def _refuse_in_test_mode(deps: Deps) -> None:
    if deps.test_mode:
        raise Conflict(
            "test_mode",
            "test mode keeps no cards: purchases are free (PLANGATE_GATEWAY=test)",
        )


def save_card(
    deps: Deps, ref: CustomerRef, return_url: str | None, scope: str | None, now: datetime
) -> dict[str, Any]:
    """Starts saving a card. With ``return_url``: a Checkout Session in setup mode, whose
    ``url`` is Stripe's hosted page (no JavaScript needed; the browser comes back to
    ``return_url``). Without: a SetupIntent whose ``client_secret`` Stripe.js confirms.
    Either way the card is the customer's afterwards; make it the default with
    ``POST .../payment-methods/default``."""
    _refuse_in_test_mode(deps)
    if return_url is not None:
        validate_redirect_url(return_url, deps.settings, param="return_url")
    gateway = deps.gateway

    def start() -> dict[str, Any]:
        customer = ensure_stripe_customer(
            deps.db, gateway, ref, now, test_clock=deps.settings.stripe_test_clock or None
        )
        metadata = {META_CUSTOMER_TYPE: ref.type, META_CUSTOMER_ID: ref.id}
        if return_url is None:
            intent = gateway.create_setup_intent(
                customer, metadata, idempotency_key=gateway_idempotency_key(scope, "setup")
            )
            return {
                "object": "card_setup",
                "type": "setup_intent",
                "id": intent["id"],
                "client_secret": intent.get("client_secret"),
                "url": None,
                "status": intent.get("status"),
            }
        session = gateway.create_checkout_session(
            {
                "mode": "setup",
                "customer": customer,
                "payment_method_types": ["card"],
                "success_url": return_url,
                "cancel_url": return_url,
                "metadata": metadata,
            },
            idempotency_key=gateway_idempotency_key(scope, "setup-session"),
        )
        return {
            "object": "card_setup",
            "type": "checkout_session",
            "id": session.id,
            "client_secret": None,
            "url": session.url,
            "status": "open",
        }

    return _gateway_call(start)


def set_default_card(
    deps: Deps, ref: CustomerRef, payment_method_id: str, scope: str | None, now: datetime
) -> dict[str, Any]:
    """Makes a card the one renewals charge: the customer's default and, for subscriptions
    that name their own card (Checkout does), theirs too. A card not yet attached is
    attached first; one belonging to another customer is not found."""
    _refuse_in_test_mode(deps)
    gateway = deps.gateway

    def apply() -> None:
        customer = ensure_stripe_customer(
            deps.db, gateway, ref, now, test_clock=deps.settings.stripe_test_clock or None
        )
        try:
            method = gateway.retrieve_payment_method(payment_method_id)
        except GatewayNotFound:
            method = None
        owner = method.get("customer") if method else None
        if method is None or (owner is not None and owner != customer):
            raise NotFound(
                "payment_method_not_found",
                f"no card {payment_method_id!r} for {ref}",
                param="payment_method_id",
            )
        if owner is None:
            method = gateway.attach_payment_method(
                payment_method_id,
                customer,
                idempotency_key=gateway_idempotency_key(scope, "attach"),
            )
        method_id = str(method["id"])
        gateway.set_default_payment_method(
            customer, method_id, idempotency_key=gateway_idempotency_key(scope, "default")
        )
        for sub in gateway.list_subscriptions(customer):
            current = sub.get("default_payment_method")
            if sub.get("status") in ENDED_SUBSCRIPTIONS or not current or current == method_id:
                continue
            gateway.update_subscription(
                str(sub["id"]),
                {"default_payment_method": method_id},
                idempotency_key=gateway_idempotency_key(scope, f"default-{sub['id']}"),
            )

    _gateway_call(apply, param="payment_method_id")
    return billing_details(deps, ref)


# --- invoices --------------------------------------------------------------------------------


def list_invoices(deps: Deps, ref: CustomerRef, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the customer's invoices from Stripe, newest first. Drafts are left out:
    their amounts may still change and they have no page to pay them on."""
    customer = None if deps.test_mode else stripe_customer_id(deps.db, ref)
    if customer is None:
        return {"data": [], "next_cursor": None}
    try:
        page, has_more = deps.gateway.list_invoices(customer, limit=limit, starting_after=cursor)
    except GatewayNotFound as exc:
        raise InvalidRequest("cursor_invalid", "unknown cursor", param="cursor") from exc
    except GatewayError as exc:
        raise from_gateway(exc) from exc
    data = [invoice_summary(i) for i in page if i.get("status") != "draft"]
    next_cursor = str(page[-1]["id"]) if has_more and page else None
    return {"data": data, "next_cursor": next_cursor}


# --- transactions ----------------------------------------------------------------------------


def transaction_id(row: Transaction) -> str:
    return f"{TRANSACTION_PREFIX}{row.id}"


def _parse_transaction_id(value: str, param: str) -> int:
    digits = value.removeprefix(TRANSACTION_PREFIX)
    if not value.startswith(TRANSACTION_PREFIX) or not digits.isdigit() or len(digits) > 18:
        raise InvalidRequest(
            f"{param}_invalid", f"{value!r} is not a transaction id (txn_…)", param=param
        )
    return int(digits)


def transaction_view(row: Transaction) -> dict[str, Any]:
    return {
        "id": transaction_id(row),
        "customer_type": row.customer_type,
        "customer_id": row.customer_id,
        "type": row.type,
        "status": row.status,
        "currency": row.currency,
        **_money(row.amount, row.currency, "amount"),
        **_money(row.amount_refunded, row.currency, "amount_refunded"),
        "product_id": row.product_id,
        "stripe_id": row.stripe_id,
        "invoice_id": row.invoice_id,
        "payment_intent_id": row.payment_intent_id,
        "charge_id": row.charge_id,
        "description": row.description,
        "created_at": row.created_at.isoformat(),
    }


def list_transactions(
    db: Database,
    *,
    customer_type: str | None,
    customer_id: str | None,
    type_: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Payments, refunds and disputes as the sync recorded them, newest first."""
    if (customer_type is None) != (customer_id is None):
        raise InvalidRequest(
            "customer_incomplete",
            "give both customer_type and customer_id, or neither",
            param="customer_id" if customer_id is None else "customer_type",
        )
    if type_ is not None and type_ not in TRANSACTION_TYPES:
        raise InvalidRequest(
            "parameter_invalid",
            f"type must be one of {', '.join(TRANSACTION_TYPES)}",
            param="type",
        )
    query = select(Transaction).order_by(Transaction.id.desc()).limit(limit + 1)
    if customer_type is not None and customer_id is not None:
        ref = customer_ref(customer_type, customer_id)
        query = query.where(
            Transaction.customer_type == ref.type, Transaction.customer_id == ref.id
        )
    if type_ is not None:
        query = query.where(Transaction.type == type_)
    if cursor is not None:
        query = query.where(Transaction.id < _parse_transaction_id(cursor, "cursor"))
    with db.read() as session:
        rows = list(session.scalars(query))
    page = rows[:limit]
    return {
        "data": [transaction_view(row) for row in page],
        "next_cursor": transaction_id(page[-1]) if len(rows) > limit else None,
    }


# --- refunds ---------------------------------------------------------------------------------


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


def _refund_amount(request: RefundRequest, currency: str, refundable: int) -> int:
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


def _check_refund_request(request: RefundRequest, test: bool) -> None:
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
    if test and request.transaction_id is None:
        raise InvalidRequest(
            "test_mode",
            "test mode refunds test payments by transaction_id (GET /v1/transactions)",
            param=given[0],
        )


def _payment_row(session: Session, txn: str) -> Transaction:
    row = session.get(Transaction, _parse_transaction_id(txn, "transaction_id"))
    if row is None:
        raise NotFound("transaction_not_found", f"no transaction {txn!r}", param="transaction_id")
    if row.type != "payment":
        raise InvalidRequest(
            "transaction_not_refundable",
            f"{txn} is a {row.type}; only payments are refunded",
            param="transaction_id",
        )
    return row


def _refund_view(
    refund: dict[str, Any], ref: CustomerRef | None, transaction: str | None
) -> dict[str, Any]:
    currency = str(refund["currency"])
    return {
        "object": "refund",
        "id": refund["id"],
        "status": refund.get("status"),
        "currency": currency,
        **_money(int(refund["amount"]), currency, "amount"),
        "payment_intent_id": refund.get("payment_intent"),
        "charge_id": refund.get("charge"),
        "customer_type": ref.type if ref else None,
        "customer_id": ref.id if ref else None,
        "transaction_id": transaction,
    }


def refund_in_test_mode(session: Session, request: RefundRequest, now: datetime) -> dict[str, Any]:
    _check_refund_request(request, test=True)
    assert request.transaction_id is not None
    payment = _payment_row(session, request.transaction_id)
    amount = _refund_amount(request, payment.currency, payment.amount - payment.amount_refunded)
    row = test_mode.refund(session, payment, amount, now)
    refund = {
        "id": row.stripe_id,
        "status": "succeeded",
        "currency": row.currency,
        "amount": row.amount,
        "payment_intent": payment.payment_intent_id,
        "charge": None,
    }
    ref = CustomerRef(payment.customer_type, payment.customer_id)
    return _refund_view(refund, ref, transaction_id(row))


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
        row = _payment_row(session, request.transaction_id)
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
    _check_refund_request(request, test=False)
    gateway = deps.gateway
    param = next(
        n for n in ("payment_intent_id", "invoice_id", "transaction_id") if getattr(request, n)
    )

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
        amount = _refund_amount(request, currency, refundable)
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
        return _refund_view(created, ref, None)

    try:
        return refund()
    except GatewayNotFound as exc:
        raise NotFound("payment_not_found", str(exc), param=param) from exc
    except GatewayError as exc:
        raise from_gateway(exc, param=param) from exc
