"""Ownerships in test mode (``PLANGATE_GATEWAY=test``): purchases are free and take effect
at once.

Nothing here talks to Stripe. Each function changes ownerships directly, in the caller's
write transaction, with the rules the Stripe path follows through the sync: lines replace,
upgrades now, downgrades at the period end, cancellations at the period end or now. Periods
come from the price's interval and are renewed for free as they pass
(``ownership.renew_subscriptions``). Payments are recorded as ``Transaction`` rows with the
amount the catalog asks (nothing is charged), so refunds can be tried end to end; their ids
start with ``test_``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Price, Product
from plangate.domain.intervals import add_intervals
from plangate.errors import InvalidRequest
from plangate.gateways.test_gateway import TestGateway
from plangate.services.commerce.transactions import settle_amount_refunded
from plangate.services.entitlements import ownership
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.models import Ownership, Transaction


def complete_checkout(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    product: Product,
    price: Price,
    now: datetime,
    *,
    currency: str,
    quantity: int = 1,
    checkout_session_id: str | None = None,
) -> Ownership:
    """Grants a test-mode purchase at once: a subscription for a recurring price (``active``,
    its first period from ``now``; or ``trialing`` until the price's trial ends, the trial
    being its first period, as at Stripe), a one-time ownership otherwise; and records the
    payment it stands for (none for a trial, which charges nothing). Refuses what checkout
    refuses (``already_owned``, add-on base)."""
    settled = ownership.settle_customer(session, ref, catalog, now)
    ownership.check_can_own(session, ref, product, settled.ownerships)
    trial_days = product.effective_trial_days(price.id)
    trial_end = now + timedelta(days=trial_days) if trial_days else None
    period_end = trial_end or (
        add_intervals(now, price.interval, 1) if price.interval is not None else None
    )
    owned = ownership.acquire_product(
        session,
        ref,
        catalog,
        product,
        now,
        source="subscription" if price.is_recurring else "one_time",
        quantity=quantity,
        catalog_version=catalog.version,
        price_id=price.id,
        stripe_checkout_session_id=checkout_session_id,
        current_period_start=now if period_end is not None else None,
        current_period_end=period_end,
        status="trialing" if trial_end is not None else "active",
        trial_end=trial_end,
    )
    if trial_end is None:
        record_payment(
            session, ref, product, price.minor_amount(currency) * quantity, currency, now
        )
    return owned


def record_payment(
    session: Session,
    ref: CustomerRef,
    product: Product,
    amount: int,
    currency: str,
    now: datetime,
    *,
    description: str | None = None,
) -> Transaction:
    payment_id = TestGateway.new_id("pi")
    row = Transaction(
        customer_type=ref.type,
        customer_id=ref.id,
        type="payment",
        stripe_id=payment_id,
        amount=amount,
        currency=currency.lower(),
        status="succeeded",
        product_id=product.id,
        invoice_id=None,
        payment_intent_id=payment_id,
        charge_id=None,
        amount_refunded=0,
        description=description or f"{product.name} (test mode, not charged)",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


# --- managing a purchase ----------------------------------------------------------------------


def _end_scheduled(
    session: Session, owned: list[Ownership], current: Ownership, now: datetime, reason: str
) -> None:
    successor = ownership.scheduled_successor(owned, current)
    if successor is not None:
        ownership.end_ownership(session, successor, now, reason)


def switch_now(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    current: Ownership,
    target: Product,
    price: Price,
    now: datetime,
) -> Ownership:
    """An upgrade: the new product replaces the current one at once, with a new period."""
    assert price.interval is not None
    owned = ownership.live_ownerships(session, ref)
    _end_scheduled(session, owned, current, now, "replaced")
    if current.line_id is None:
        # A price change of a product outside any line; within a line, the line rule ends
        # the current product as the new one is acquired.
        ownership.end_ownership(session, current, now, "switched")
    return ownership.acquire_product(
        session,
        ref,
        catalog,
        target,
        now,
        source="subscription",
        quantity=current.quantity,
        catalog_version=catalog.version,
        price_id=price.id,
        current_period_start=now,
        current_period_end=add_intervals(now, price.interval, 1),
    )


def switch_at_period_end(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    current: Ownership,
    target: Product,
    price: Price,
    now: datetime,
) -> Ownership:
    """A downgrade: a scheduled ownership that takes over when the current period ends."""
    assert price.interval is not None and current.current_period_end is not None
    owned = ownership.live_ownerships(session, ref)
    _end_scheduled(session, owned, current, now, "replaced")
    start = current.current_period_end
    scheduled = Ownership(
        customer_type=ref.type,
        customer_id=ref.id,
        product_id=target.id,
        product=target.to_dict(),
        catalog_version=catalog.version,
        line_id=target.line,
        price_id=price.id,
        quantity=current.quantity,
        source="subscription",
        status=ownership.SCHEDULED,
        anchor=start,
        current_period_start=start,
        current_period_end=add_intervals(start, price.interval, 1),
        cancel_at_period_end=False,
        granted_periods={},
        created_at=now,
    )
    session.add(scheduled)
    # A downgrade replaces a pending cancellation: the customer chose to stay, for less.
    current.cancel_at_period_end = False
    session.flush()
    ownership.settle_customer(session, ref, catalog, now)
    return scheduled


def cancel(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    current: Ownership,
    now: datetime,
    *,
    immediately: bool,
) -> None:
    owned = ownership.live_ownerships(session, ref)
    if current.status == ownership.SCHEDULED:
        # Cancelling a product that has not started yet drops the scheduled switch.
        ownership.end_ownership(session, current, now, "canceled")
    elif immediately:
        _end_scheduled(session, owned, current, now, "canceled")
        ownership.end_ownership(session, current, now, "canceled")
    else:
        _end_scheduled(session, owned, current, now, "canceled")
        current.cancel_at_period_end = True
    session.flush()
    ownership.settle_customer(session, ref, catalog, now)


def resume(
    session: Session, ref: CustomerRef, catalog: Catalog, current: Ownership, now: datetime
) -> None:
    current.cancel_at_period_end = False
    session.flush()
    ownership.settle_customer(session, ref, catalog, now)


def refund(session: Session, payment: Transaction, amount: int, now: datetime) -> Transaction:
    """Records a refund of a test-mode payment (nothing was charged, nothing moves). The
    caller holds the payment's row lock (``transactions.lock_payment``) since it read what is
    left to refund."""
    if not payment.stripe_id.startswith("test_"):
        raise InvalidRequest(
            "payment_not_refundable",
            "test mode refunds only test-mode payments; this one was made through Stripe",
            param="transaction_id",
        )
    assert 0 < amount <= payment.amount - payment.amount_refunded, "checked by the caller"
    refund_id = TestGateway.new_id("re")
    row = Transaction(
        customer_type=payment.customer_type,
        customer_id=payment.customer_id,
        type="refund",
        stripe_id=refund_id,
        amount=amount,
        currency=payment.currency,
        status="succeeded",
        product_id=payment.product_id,
        invoice_id=payment.invoice_id,
        payment_intent_id=payment.payment_intent_id,
        charge_id=payment.charge_id,
        amount_refunded=0,
        description=f"refund of {payment.stripe_id} (test mode)",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    settle_amount_refunded(session, payment, now)
    if payment.amount_refunded == payment.amount:
        payment.status = "refunded"
    return row
