"""One open Checkout Session per customer and product line.

Two browser tabs that each start a checkout of a plan must not end as two paid
subscriptions. So a checkout of a product in a line first looks for the customer's open,
unexpired session of that line (under the customer's row lock, which the caller holds until
the new session is recorded: the lock is the point, two tabs queue on it):

* the same purchase (product, price, currency, quantity, discount) gets that session back,
  same id and url, if Stripe still has it open;
* another purchase of the line expires that session at Stripe first, then opens its own, so
  the older tab can no longer be paid;
* a session Stripe already calls ``complete`` (paid, the sync not caught up yet) refuses the
  new checkout: 409 ``checkout_open``, with the session's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Product
from plangate.errors import Conflict
from plangate.gateways.base import Gateway, GatewayError
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.models import CheckoutSession


@dataclass(frozen=True)
class Purchase:
    """What a checkout sells, to tell the same purchase from another one of the line."""

    product_id: str
    price_id: str | None
    currency: str | None
    quantity: int
    # Stripe's promotion code id, and whether the page shows Stripe's code field.
    promotion_code: str | None = None
    allow_promotion_codes: bool = False


def discount_terms(params: Mapping[str, Any]) -> tuple[str | None, bool]:
    """A Checkout Session's discount, from its parameters or as Stripe returns it."""
    codes = [d.get("promotion_code") for d in params.get("discounts") or []]
    return (
        str(codes[0]) if codes and codes[0] else None,
        bool(params.get("allow_promotion_codes")),
    )


def open_session_of_line(
    session: Session, ref: CustomerRef, catalog: Catalog, product: Product, now: datetime
) -> CheckoutSession | None:
    """The customer's newest session recorded open and not expired for a product of
    ``product``'s line; None outside any line (packs stack, add-ons have their own rules)."""
    if product.line is None:
        return None
    in_line = {p.id for p in catalog.products_in_line(product.line)}
    rows = session.scalars(
        select(CheckoutSession)
        .where(
            CheckoutSession.customer_type == ref.type,
            CheckoutSession.customer_id == ref.id,
            CheckoutSession.status == "open",
        )
        .order_by(CheckoutSession.created_at.desc())
    ).all()
    for row in rows:
        if row.product_id in in_line and (row.expires_at is None or row.expires_at > now):
            return row
    return None


def reuse_or_expire(
    gateway: Gateway, row: CheckoutSession, wanted: Purchase
) -> CheckoutSession | None:
    """``row`` when it is still open at Stripe for the same purchase; else None, after
    expiring it at Stripe when it is open for another purchase. 409 ``checkout_open`` when
    Stripe says it completed: that purchase is being fulfilled."""
    remote = gateway.retrieve_checkout_session(row.id)
    status = str(remote.get("status") or "")
    if status == "complete":
        raise Conflict(
            "checkout_open",
            f"a checkout of this product line was just completed ({row.id}); "
            "its purchase is being fulfilled",
            param="product_id",
            checkout_session_id=row.id,
        )
    if status != "open":
        return None  # expired at Stripe; the sync records that
    held = Purchase(
        row.product_id, row.price_id, row.currency, row.quantity, *discount_terms(remote)
    )
    same = held == wanted
    if same and row.url is not None:
        return row
    try:
        # One key per session: expiring it again replays the first answer.
        gateway.expire_checkout_session(row.id, idempotency_key=f"plangate-expire-{row.id}")
    except GatewayError:
        # Completed between the two calls: the older tab was paid first, and wins.
        if str(gateway.retrieve_checkout_session(row.id).get("status")) == "complete":
            raise Conflict(
                "checkout_open",
                f"a checkout of this product line was just completed ({row.id}); "
                "its purchase is being fulfilled",
                param="product_id",
                checkout_session_id=row.id,
            ) from None
        raise
    return None


def url_and_expiry(row: CheckoutSession) -> tuple[str, datetime]:
    """A reused session's url and expiry (both recorded for every session plangate opens)."""
    assert row.url is not None and row.expires_at is not None
    return row.url, row.expires_at.astimezone(UTC)
