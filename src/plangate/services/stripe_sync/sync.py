"""The sync: Stripe's current state written into plangate's tables (DESIGN.md, "The one rule").

Handlers never apply an event's payload. An event only says *which* object changed; the
handler re-fetches that object and writes what Stripe says now. Together with a per-object
row lock (:func:`lock_object`) held while fetching and writing, this makes the result
independent of delivery order: whichever sync runs last fetched last, so it wrote the newest
state. Duplicates are harmless for the same reason, and fulfilment of one-time purchases is
keyed on the checkout session, so it happens once.

The lock is held across the Stripe call on purpose (it is what orders the fetches); it is the
only place a Stripe call runs inside a database transaction, with the customer's Stripe
customer creation (services/commerce/stripe_customers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plangate.clock import Clock
from plangate.domain.catalog import Catalog, Product
from plangate.gateways.base import Gateway, GatewayNotFound, StripeDict
from plangate.gateways.stripe_client import (
    META_CATALOG_VERSION,
    META_CUSTOMER_ID,
    META_CUSTOMER_TYPE,
)
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import (
    CUSTOMER_TYPES,
    CustomerRef,
    insert_customer_if_missing,
)
from plangate.services.events import facts
from plangate.services.stripe_sync.batch import BatchFetches
from plangate.store.db import Database
from plangate.store.models import Customer, Ownership, StripeObjectSync


@dataclass(frozen=True)
class SyncContext:
    db: Database
    gateway: Gateway
    catalogs: CatalogCache
    clock: Clock
    # The objects the worker's current batch fetched already (None: fetch every time).
    batch: BatchFetches | None = None
    # ``Settings.dispute_policy`` (the worker sets it from its settings).
    dispute_policy: str = "keep_access"


@dataclass(frozen=True)
class Outcome:
    """What one handler did; ``ignored`` says why an event needed nothing (not plangate's)."""

    changed: bool = False
    ignored: str | None = None


NOTHING = Outcome()


class SyncError(Exception):
    """A sync that cannot succeed as things stand (e.g. a product missing from the catalog);
    retried with backoff, then left ``failed`` and visible."""


# --- the per-object lock -----------------------------------------------------------------------


def lock_object(
    session: Session, object_id: str, now: datetime, *, writes_state: bool = True
) -> StripeObjectSync:
    """Serializes the sync of one Stripe object for the rest of the transaction: the row is
    inserted if missing (a no-op when it exists), then locked with ``SELECT ... FOR UPDATE``.
    SQLite write transactions hold the database's write lock already.

    ``syncs`` counts the transactions that wrote the object's state (batch.py reuses a fetch
    only while no other one did); ``writes_state=False`` locks without counting."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(StripeObjectSync)
        .values(object_id=object_id, synced_at=now, syncs=0)
        .on_conflict_do_nothing(index_elements=["object_id"])
    )
    row = session.execute(
        select(StripeObjectSync).where(StripeObjectSync.object_id == object_id).with_for_update()
    ).scalar_one()
    if writes_state:
        row.synced_at = now
        row.syncs += 1
    return row


# --- who and what an object is about -------------------------------------------------------------


def ref_from_metadata(metadata: Any) -> CustomerRef | None:
    if not isinstance(metadata, dict):
        return None
    customer_type, customer_id = metadata.get(META_CUSTOMER_TYPE), metadata.get(META_CUSTOMER_ID)
    if customer_type in CUSTOMER_TYPES and isinstance(customer_id, str) and customer_id:
        return CustomerRef(customer_type, customer_id)
    return None


def resolve_customer(
    session: Session,
    gateway: Gateway,
    stripe_customer_id: str | None,
    metadata: Any,
    now: datetime,
) -> CustomerRef | None:
    """The plangate customer a Stripe object belongs to, or None when it is not plangate's.

    Our own mapping (``customers.stripe_customer_id``) first; then plangate's metadata on the
    object, then on its Stripe customer (a customer plangate lost, e.g. a restored backup, is
    linked again)."""
    if stripe_customer_id:
        row = session.execute(
            select(Customer).where(Customer.stripe_customer_id == stripe_customer_id)
        ).scalar_one_or_none()
        if row is not None:
            return CustomerRef(row.customer_type, row.customer_id)
    ref = ref_from_metadata(metadata)
    if ref is None and stripe_customer_id:
        try:
            ref = ref_from_metadata(gateway.retrieve_customer(stripe_customer_id).get("metadata"))
        except GatewayNotFound:
            return None
    if ref is None:
        return None
    insert_customer_if_missing(session, ref, now)
    customer = session.get(Customer, (ref.type, ref.id))
    assert customer is not None
    if customer.stripe_customer_id is None and stripe_customer_id:
        customer.stripe_customer_id = stripe_customer_id
    return ref


def catalog_for(ctx: SyncContext, session: Session, metadata: Any) -> tuple[Catalog, Catalog]:
    """(the catalog the purchase was made under, the active catalog). Ownerships keep the
    product as it was when bought, so the purchase's catalog version is preferred."""
    active = ctx.catalogs.active(session)
    version = metadata.get(META_CATALOG_VERSION) if isinstance(metadata, dict) else None
    bought = ctx.catalogs.get(session, version) if isinstance(version, str) else None
    return bought or active, active


def product_in(bought: Catalog, active: Catalog, product_id: str) -> tuple[Product, str] | None:
    """The product and the catalog version it was taken from."""
    for catalog in (bought, active):
        product = catalog.products.get(product_id)
        if product is not None:
            return product, catalog.version
    return None


# --- dispatch ----------------------------------------------------------------------------------


Handler = Callable[[SyncContext, str], Outcome]


def _handlers() -> dict[str, Handler]:
    from plangate.services.stripe_sync import payments as sync_payments
    from plangate.services.stripe_sync import subscriptions as sync_subscriptions

    return {
        "subscription": sync_subscriptions.sync_subscription,
        "checkout.session": sync_payments.sync_checkout_session,
        "invoice": sync_payments.sync_invoice,
        "payment_intent": sync_payments.sync_payment_intent,
        "charge": sync_payments.sync_charge,
        "refund": sync_payments.sync_refund,
        "dispute": sync_payments.sync_dispute,
    }


def handle_event(
    ctx: SyncContext, event_type: str, object_type: str | None, object_id: str | None
) -> Outcome:
    """Syncs the object an event names. Events about objects plangate does not derive state
    from (products, prices, payment methods, test clocks, ...) need nothing."""
    if object_id is None or object_type is None:
        return Outcome(ignored="the event names no object")
    handler = _handlers().get(object_type)
    if handler is None:
        return Outcome(ignored=f"plangate keeps no state from {object_type} objects")
    outcome = handler(ctx, object_id)
    notice = NOTICES.get(event_type)
    if notice is not None and object_type == "subscription":
        _notice(ctx, object_id, *notice)
    return outcome


TRIAL_WILL_END = "customer.subscription.trial_will_end"
# Stripe's notice some days before a renewal; stored as an event about the subscription the
# upcoming invoice renews (webhooks.store_event), since the preview invoice has no id.
INVOICE_UPCOMING = "invoice.upcoming"
# Notices about a subscription's live items: Stripe's event -> (the item statuses it is
# about, the fact reported for each, once per item and date).
NOTICES: dict[str, tuple[frozenset[str], Callable[[Session, Ownership, datetime], bool]]] = {
    # Three days before a trial ends: ``subscriptionItem.freeTrialEnding``.
    TRIAL_WILL_END: (frozenset({"trialing"}), facts.trial_ending),
    # Before a renewal: ``subscriptionItem.upcoming``.
    INVOICE_UPCOMING: (frozenset({"active", "trialing", "past_due"}), facts.renewal_upcoming),
}


def _notice(ctx: SyncContext, subscription_id: str, statuses: frozenset[str],
            report: Callable[[Session, Ownership, datetime], bool]) -> None:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        lock_object(session, subscription_id, now, writes_state=False)
        items = session.scalars(
            select(Ownership).where(
                Ownership.stripe_subscription_id == subscription_id,
                Ownership.ended_at.is_(None),
                Ownership.status.in_(statuses),
            )
        ).all()
        for item in items:
            report(session, item, now)


def sync_object(ctx: SyncContext, object_type: str, object_id: str) -> Outcome:
    """Syncs one object by type (the reconciler's entry point)."""
    return _handlers()[object_type](ctx, object_id)


def subscription_id_of_invoice(invoice: StripeDict) -> str | None:
    """Basil: ``invoice.parent.subscription_details.subscription`` (no ``invoice.subscription``)."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub = details.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    return sub if isinstance(sub, str) else None
