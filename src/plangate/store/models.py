"""SQLAlchemy models: the tables plangate keeps.

Customers are addressed everywhere by their natural key ``(customer_type, customer_id)`` so the
hot paths (``check``, ``consume``) read one row by primary key without a join.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plangate.store.types import UTCDateTime

CUSTOMER_TYPE = String(8)
CUSTOMER_ID = String(255)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class CatalogVersion(Base):
    """A catalog as applied, identified by the hash of its content."""

    __tablename__ = "catalog_versions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    document: Mapped[dict[str, Any]]
    source_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime] = mapped_column(index=True)


class ApiKey(Base):
    """A server secret key. Only its SHA-256 is stored; ``prefix`` lets people tell keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Customer(Base):
    __tablename__ = "customers"
    # The admin list: newest first, in a stable order a cursor resumes from (migration 0007).
    __table_args__ = (
        Index("ix_customers_created", "created_at", "customer_type", "customer_id"),
    )

    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE, primary_key=True)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(500))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


def _customer_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["customer_type", "customer_id"],
        ["customers.customer_type", "customers.customer_id"],
        name=f"fk_{table}_customer",
    )


class Ownership(Base):
    """A customer's holding of a product, with the product as it was when acquired."""

    __tablename__ = "ownerships"
    __table_args__ = (
        _customer_fk("ownerships"),
        Index("ix_ownerships_live", "customer_type", "customer_id", "ended_at"),
        Index("ix_ownerships_subscription", "stripe_subscription_id"),
        # A paid one-time checkout is fulfilled once (migration 0004).
        Index("uq_ownerships_checkout_session", "stripe_checkout_session_id", unique=True),
        Index("ix_ownerships_product", "product_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID)
    product_id: Mapped[str] = mapped_column(String(64))
    product: Mapped[dict[str, Any]]
    catalog_version: Mapped[str | None] = mapped_column(String(40))
    line_id: Mapped[str | None] = mapped_column(String(64))
    price_id: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # grant | default | subscription | one_time
    source: Mapped[str] = mapped_column(String(16))
    # For subscriptions: Stripe's status; for everything else "active".
    status: Mapped[str] = mapped_column(String(24), default="active")
    anchor: Mapped[datetime]
    current_period_start: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    trial_end: Mapped[datetime | None]
    # Item id -> index of the last period whose quantity was granted (0 is the first).
    granted_periods: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A subscription's change waiting for its period end (a Stripe subscription schedule):
    # ``{to_product_id, price_id, effective_at}`` (unix seconds), or None. Written by the sync.
    scheduled_change: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # A subscription's discounts that recur (``domain.revenue.Discount`` as dicts, in the
    # order Stripe applies them), or None. Written by the sync (migration 0018).
    discounts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # The open dispute of the payment that bought it, under ``dispute_policy=suspend``
    # (migration 0016): no access while set.
    suspended_by_dispute: Mapped[str | None] = mapped_column(String(255))


class ItemLot(Base):
    """A quantity of an item granted at once, consumed soonest-expiring first.

    ``remaining`` is what is left of ``quantity``; expiry removes the remainder. Lots are
    bookkeeping behind the ledger, which stays the append-only record of every change.
    """

    __tablename__ = "item_lots"
    __table_args__ = (
        _customer_fk("item_lots"),
        Index("ix_item_lots_open", "customer_type", "customer_id", "item_id", "closed"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID)
    item_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    ownership_id: Mapped[int | None] = mapped_column(Integer)
    # Plan quantities (expires when_repeated / when_purchase_expires) end when the ownership does.
    ends_with_ownership: Mapped[bool] = mapped_column(Boolean, default=False)
    # True once the lot is spent or expired: open lots are the only ones read.
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class ItemBalance(Base):
    """The current balance of one item for one customer: what ``check`` and ``consume`` touch.

    ``settle_at`` is the next moment a refill or expiry is due. Before it, the balance can be
    used as it is; from it on, the ledger must be settled first. ``pending_consumption`` is
    what fast-path consumptions took since the last settlement and is spread over the lots,
    soonest-expiring first, when the next settlement runs.
    """

    __tablename__ = "item_balances"
    __table_args__ = (_customer_fk("item_balances"),)

    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE, primary_key=True)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_consumption: Mapped[int] = mapped_column(BigInteger, default=0)
    settle_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LedgerEntry(Base):
    """One change of an item quantity. Append-only: rows are never updated or deleted.

    No foreign key to ``customers``: the check would make every fast-path consumption lock the
    customer row while it holds the balance row, the opposite order of settlement, which
    deadlocks on PostgreSQL. Entries are only written next to a balance row, which has one.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_customer_item", "customer_type", "customer_id", "item_id", "id"),
        # A keyed consumption replays the entry its key wrote (services/entitlements/ledger).
        Index(
            "uq_ledger_idempotency_key",
            "customer_type",
            "customer_id",
            "item_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
            sqlite_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID)
    item_id: Mapped[str] = mapped_column(String(64))
    delta: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    # grant | refill | change | consume | expire | revoke | refused (a keyed consumption that
    # was refused: delta 0, kept so that a retry with its key replays the refusal)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None]
    ownership_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # kind "refused": the quantity that was asked for
    refused_quantity: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class EntitlementSnapshot(Base):
    """A customer's plans and features as of the last change: one indexed read answers ``check``."""

    __tablename__ = "entitlement_snapshots"
    __table_args__ = (_customer_fk("entitlement_snapshots"),)

    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE, primary_key=True)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID, primary_key=True)
    plans: Mapped[list[str]] = mapped_column(JSON)
    features: Mapped[list[str]] = mapped_column(JSON)
    catalog_version: Mapped[str | None] = mapped_column(String(40))
    valid_until: Mapped[datetime]
    updated_at: Mapped[datetime]


class IdempotencyRecord(Base):
    """The first answer to a request made with an ``Idempotency-Key``, replayed on retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_principal_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(CUSTOMER_ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(CUSTOMER_ID, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


__all__ = [
    "ApiKey",
    "Base",
    "CatalogVersion",
    "Customer",
    "EntitlementSnapshot",
    "IdempotencyRecord",
    "ItemBalance",
    "ItemLot",
    "LedgerEntry",
    "Ownership",
    "TeamMember",
]


class SigningKey(Base):
    """An Ed25519 key that signs entitlement and customer-session tokens.

    The newest key without ``retired_at`` signs; retired keys keep verifying (and stay in the
    JWKS) for one token lifetime, so that tokens signed just before a rotation stay valid.
    ``private_key`` is PKCS#8 PEM, encrypted when ``PLANGATE_SIGNING_KEY_SECRET`` is set.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    retired_at: Mapped[datetime | None]


__all__.append("SigningKey")


class StripeEvent(Base):
    """A Stripe event as received: stored before it is acknowledged (at least once), unique on
    its id (at most once). The payload is kept for the record; handlers never apply it, they
    re-fetch the object it names."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        Index("ix_stripe_events_queue", "status", "next_attempt_at"),
        # The worker's lease order: urgent first, then as Stripe created them.
        Index("ix_stripe_events_lease", "status", "priority", "created", "received_at", "id"),
        Index("ix_stripe_events_customer", "stripe_customer_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(255))
    object_type: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    created: Mapped[datetime]
    received_at: Mapped[datetime]
    # pending | done | failed (gave up after the retries; stays visible)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[datetime | None]
    # 0: a customer waits on it (a checkout completed, a payment failed, a plan ended), leased
    # before the 1s (renewals and every other change); see stripe_sync/webhooks.py.
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    # The Stripe customer the event's object belongs to (an id, not state): a worker leases
    # the waiting events of the customers in its batch along with it.
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))


class StripeObjectSync(Base):
    """One row per synced Stripe object; its row lock serializes the sync of that object, so
    concurrent or reordered events converge on Stripe's latest state."""

    __tablename__ = "stripe_object_syncs"

    object_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    synced_at: Mapped[datetime]
    syncs: Mapped[int] = mapped_column(Integer, default=0)


class ReconcileLease(Base):
    """One reconcile per installation at a time: the process holding the row's lease runs it
    (services/stripe_sync/reconcile_lease.py); ``finished_at`` is when the last one ended."""

    __tablename__ = "stripe_reconcile_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class CheckoutSession(Base):
    """A Checkout Session plangate created; the success page polls it. It never grants."""

    __tablename__ = "checkout_sessions"
    __table_args__ = (_customer_fk("checkout_sessions"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID)
    product_id: Mapped[str] = mapped_column(String(64))
    price_id: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    url: Mapped[str | None] = mapped_column(Text)
    catalog_version: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    ownership_id: Mapped[int | None] = mapped_column(Integer)


class Transaction(Base):
    """A payment, refund or dispute, as the sync recorded it from Stripe."""

    __tablename__ = "transactions"
    __table_args__ = (
        _customer_fk("transactions"),
        Index("ix_transactions_customer", "customer_type", "customer_id", "created_at"),
        Index("ix_transactions_payment_intent", "payment_intent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID)
    # payment | refund | dispute
    type: Mapped[str] = mapped_column(String(16))
    stripe_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[str | None] = mapped_column(String(64))
    invoice_id: Mapped[str | None] = mapped_column(String(255))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    charge_id: Mapped[str | None] = mapped_column(String(255))
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    # The tax included in `amount`, from the payment's invoice or Checkout Session.
    amount_tax: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


__all__ += ["CheckoutSession", "StripeEvent", "StripeObjectSync", "Transaction"]


class LineConflict(Base):
    """A Stripe subscription the sync refused to let grant (DESIGN.md invariant 10): a second
    live subscription in a line the customer already holds through another, or one whose
    product the customer may not own. Written by the sync alone (services/stripe_sync)."""

    __tablename__ = "line_conflicts"
    __table_args__ = (
        _customer_fk("line_conflicts"),
        Index("ix_line_conflicts_customer", "customer_type", "customer_id", "id"),
        # One record per subscription and reason: a re-sync finds it instead of adding one.
        UniqueConstraint("subscription_id", "reason", name="uq_line_conflicts_subscription"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_type: Mapped[str] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str] = mapped_column(CUSTOMER_ID)
    line_id: Mapped[str | None] = mapped_column(String(64))
    product_id: Mapped[str | None] = mapped_column(String(64))
    subscription_id: Mapped[str] = mapped_column(String(255))
    kept_subscription_id: Mapped[str | None] = mapped_column(String(255))
    # duplicate_subscription | customer_type_mismatch | add_on_without_base
    # | server_only_product | unknown_product
    reason: Mapped[str] = mapped_column(String(32))
    # pending | canceled_refunded | canceled | recorded | cleared
    resolution: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500))
    refund_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


__all__.append("LineConflict")

# The outbox's tables live in their own module; importing it here registers them with
# Base.metadata wherever the models are used (migrations, tests).
from plangate.store import email_models as _email_models  # noqa: E402, F401
from plangate.store import outbox_models as _outbox_models  # noqa: E402, F401

# The operators' tables share this Base (and so the migrations' schema).
from plangate.store.admin_models import (  # noqa: E402
    AuditEntry,
    Operator,
    OperatorSession,
    Setting,
)

__all__ += ["AuditEntry", "Operator", "OperatorSession", "Setting"]

# The identity provider's webhook messages handled (services/identity_sync).
from plangate.store.identity_models import IdentityWebhookMessage  # noqa: E402

__all__ += ["IdentityWebhookMessage"]

# The Stripe call budget's bucket (services/stripe_budget).
from plangate.store.budget_models import StripeCallBudget  # noqa: E402

__all__ += ["StripeCallBudget"]

# Usage records and their reporting queue (services/usage).
from plangate.store.usage_models import UsageRecord  # noqa: E402

__all__ += ["UsageRecord"]
