"""Which emails a fact calls for, to whom, and what they say (the templates' context).

A fact from the outbox becomes at most one email of each kind: a succeeded payment a receipt,
a failed one a payment-failed notice with a link to fix the card, a trial about to end a
reminder, a cancellation or an ended subscription a notice, a refund a notice to the
customer, a dispute opened or closed and a disabled webhook endpoint a notice to the operator.
Amounts are integer minor units, formatted for people here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.money import format_money
from plangate.errors import PlangateError
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef, get_customer
from plangate.services.events.consumers import Fact
from plangate.settings import Settings
from plangate.store.models import Customer, TeamMember, Transaction

KINDS = (
    "receipt",
    "payment_failed",
    "trial_ending",
    "subscription_canceled",
    "subscription_ended",
    "endpoint_disabled",
    "refund",
    "dispute_created",
    "dispute_closed",
)
# Kinds the operator receives rather than the customer (a dispute is the merchant's to answer).
OPERATOR_KINDS = frozenset({"endpoint_disabled", "dispute_created", "dispute_closed"})
# The path of the link a payment-failed email carries: it opens a billing portal session.
FIX_CARD_PATH = "/billing/fix-card/"
# Items that end because the customer switched plans, not because the subscription ended.
SWITCHES = frozenset({"switched", "replaced"})
# A renewal's payment may be recorded before its invoice names the product: its email waits
# this long for the product before it goes out without it.
PRODUCT_WAIT = timedelta(seconds=60)
RECHECK = timedelta(seconds=5)


class NotReady(Exception):
    """The fact's email should wait for the state it describes to be complete."""

    def __init__(self, at: datetime) -> None:
        super().__init__(f"waiting until {at.isoformat()}")
        self.at = at


@dataclass
class Draft:
    kind: str
    customer: tuple[str, str] | None
    context: dict[str, Any] = field(default_factory=dict)
    link_token: str | None = None


def _kind(fact: Fact) -> str | None:
    data = fact.payload
    if fact.type.startswith("paymentAttempt."):
        if data.get("status") == "succeeded":
            return "receipt"
        if data.get("status") == "failed":
            return "payment_failed"
        return None
    if fact.type == "subscriptionItem.ended" and data.get("end_reason") in SWITCHES:
        return None  # the customer moved to another plan: nothing ended for them
    return {
        "subscriptionItem.freeTrialEnding": "trial_ending",
        "subscriptionItem.canceled": "subscription_canceled",
        "subscriptionItem.ended": "subscription_ended",
        "webhookEndpoint.disabled": "endpoint_disabled",
        "refund.created": "refund",
        "dispute.created": "dispute_created",
        "dispute.closed": "dispute_closed",
    }.get(fact.type)


def _date(ms: Any) -> str | None:
    if not isinstance(ms, int):
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment:%B} {moment.day}, {moment.year}"


def _money(amount: Any, currency: Any) -> str | None:
    if not isinstance(amount, int) or not isinstance(currency, str) or not currency:
        return None
    try:
        return format_money(amount, currency)
    except (ValueError, PlangateError):  # a currency plangate has no table entry for
        return f"{amount} {currency.upper()} (minor units)"


def _product_name(session: Session, catalogs: CatalogCache, product_id: Any) -> str:
    if not isinstance(product_id, str):
        return "your purchase"
    product = catalogs.active(session).products.get(product_id)
    return product.name if product is not None and product.name else product_id


def _payment(session: Session, fact: Fact, now: datetime) -> dict[str, Any]:
    """The payment as the fact reports it, completed from its current record (the sync may
    have learnt its product and invoice since)."""
    data = dict(fact.payload)
    if data.get("product_id") is None and isinstance(data.get("id"), str):
        row = session.scalars(
            select(Transaction).where(Transaction.stripe_id == data["id"])
        ).first()
        if row is not None:
            data["product_id"] = row.product_id
            data["invoice_id"] = data.get("invoice_id") or row.invoice_id
    if data.get("product_id") is None and now < fact.created_at + PRODUCT_WAIT:
        raise NotReady(now + RECHECK)
    return data


def drafts(session: Session, fact: Fact, settings: Settings, catalogs: CatalogCache,
           now: datetime) -> list[Draft]:
    """The emails ``fact`` calls for (none for most facts); :class:`NotReady` when the
    fact's email should wait."""
    kind = _kind(fact)
    if kind is None:
        return []
    data = _payment(session, fact, now) if kind in ("receipt", "payment_failed") else (
        fact.payload)
    context: dict[str, Any] = {"brand": settings.brand_name or "plangate", "kind": kind}
    draft = Draft(kind, fact.customer, context)
    if kind in ("receipt", "payment_failed"):
        amount, currency = data.get("amount"), data.get("currency")
        context.update(
            product=_product_name(session, catalogs, data.get("product_id")),
            amount=_money(amount, currency),
            date=_date(data.get("updated_at") or data.get("created_at")),
            invoice_id=data.get("invoice_id"),
            payment_id=data.get("payment_intent_id") or data.get("id"),
        )
        if kind == "payment_failed":
            context["reason"] = data.get("failure_message") or "the card was declined"
            draft.link_token = secrets.token_urlsafe(32)
            context["fix_url"] = settings.base_url.rstrip("/") + FIX_CARD_PATH + draft.link_token
    elif kind in ("refund", "dispute_created", "dispute_closed"):
        context.update(
            product=_product_name(session, catalogs, data.get("product_id")),
            amount=_money(data.get("amount"), data.get("currency")),
            date=_date(data.get("updated_at") or data.get("created_at")),
            reference=data.get("id"),
            charge_id=data.get("charge_id"),
            status=data.get("status"),
            payer=data.get("payer") or {},
        )
    elif kind == "endpoint_disabled":
        draft.customer = None
        context.update(url=data.get("url"), endpoint_id=data.get("id"),
                       reason=data.get("disabled_reason"),
                       failing_since=_date(data.get("failing_since")))
    else:
        plan = data.get("plan") or {}
        context.update(
            product=plan.get("name") or plan.get("id") or "your plan",
            period_end=_date(data.get("period_end")),
            ended=_date(data.get("ended_at")),
            trial_end=_date(data.get("trial_end") or data.get("period_end")),
        )
    return [draft]


def recipient(session: Session, draft: Draft, settings: Settings) -> str | None:
    """The address the draft goes to: the operator's for operator notices; a customer's own
    email; for a team without one, its admins' addresses."""
    if draft.kind in OPERATOR_KINDS:
        return settings.email_operator or None
    if draft.customer is None:
        return None
    row = get_customer(session, CustomerRef(*draft.customer))
    if row is not None and row.email:
        return row.email
    if draft.customer[0] != "team":
        return None
    admins = session.scalars(
        select(Customer.email)
        .join(TeamMember, (TeamMember.user_id == Customer.customer_id)
              & (Customer.customer_type == "user"))
        .where(TeamMember.team_id == draft.customer[1], TeamMember.role == "admin",
               Customer.email.is_not(None))
        .order_by(Customer.customer_id)
    ).all()
    return ", ".join(a for a in admins if a) or None
