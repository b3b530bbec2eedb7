"""Checkout: selling a catalog product through a Stripe Checkout Session.

On the stripe gateway, creating a session grants nothing. The customer pays on Stripe's page;
Stripe's webhooks drive the sync, which creates the ownership (DESIGN.md, "The one rule").
Here we only refuse what cannot be bought, make sure the Stripe customer exists, resolve the
Stripe price by its lookup key (never a stored ``price_...`` id, so a re-pushed catalog needs
no migration) and remember the session so the success page can poll it.

On the test gateway (test mode) there is no Stripe: the session is complete at once and the
purchase is granted in the transaction that records it (services/commerce/test_mode.py).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Price, Product
from plangate.errors import Conflict, GatewayFailed, InvalidRequest, NotFound, PermissionDenied
from plangate.gateways.base import Gateway, GatewayError
from plangate.gateways.stripe_client import (
    META_CATALOG_VERSION,
    META_CUSTOMER_ID,
    META_CUSTOMER_TYPE,
    META_PRICE_ID,
    META_PRODUCT_ID,
    lookup_key,
)
from plangate.services.access.redirects import validate_redirect_url
from plangate.services.commerce import test_mode as test_mode_checkout
from plangate.services.commerce.stripe_customers import ensure_customer_row, ensure_stripe_customer
from plangate.services.entitlements import ownership
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import CheckoutSession, Ownership

META_QUANTITY = "quantity"
SUCCESS_PATH = "/checkout/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL_PATH = "/checkout/canceled"


@dataclass(frozen=True)
class CheckoutRequest:
    ref: CustomerRef
    product_id: str
    price_id: str | None = None
    currency: str | None = None
    quantity: int = 1
    success_url: str | None = None
    cancel_url: str | None = None
    # Clients never see server-only products: for them those do not exist.
    client: bool = False
    # Derived from the caller and its Idempotency-Key: a retry reuses the same Stripe session.
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CheckoutCreated:
    id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Deps:
    db: Database
    gateway: Gateway
    catalogs: CatalogCache
    settings: Settings


@dataclass(frozen=True)
class _Offer:
    catalog: Catalog
    product: Product
    price: Price
    currency: str
    quantity: int


DEFAULT_CURRENCY = "usd"


def default_currency(price: Price, customer_currency: str | None) -> str:
    """The currency of a checkout that names none: the customer's own (Stripe bills a
    customer's subscriptions in one currency), else USD, else the price's first."""
    for candidate in (customer_currency, DEFAULT_CURRENCY):
        if candidate and candidate in price.amounts:
            return candidate
    return price.currencies[0]


def resolve_offer(
    catalog: Catalog, request: CheckoutRequest, customer_currency: str | None = None
) -> _Offer:
    """The product, price, currency and quantity asked for, or the error that refuses them."""
    product = catalog.products.get(request.product_id)
    if product is None or (request.client and product.server_only):
        raise NotFound(
            "product_not_found", f"no product {request.product_id!r}", param="product_id"
        )
    if product.default:
        raise InvalidRequest(
            "product_is_default",
            f"{product.id!r} is its line's default: it is owned whenever no other product is",
            param="product_id",
        )
    if not product.prices:
        raise InvalidRequest(
            "product_not_purchasable",
            f"{product.id!r} has no prices; it can only be granted",
            param="product_id",
        )
    price_id = request.price_id or next(iter(product.prices))
    price = product.prices.get(price_id)
    if price is None:
        raise NotFound(
            "price_not_found", f"{product.id!r} has no price {price_id!r}", param="price_id"
        )
    currency = (request.currency or default_currency(price, customer_currency)).lower()
    if currency not in price.amounts:
        raise InvalidRequest(
            "currency_not_offered",
            f"price {price.id!r} of {product.id!r} is not offered in {currency.upper()}; "
            f"it is in {', '.join(c.upper() for c in price.currencies)}",
            param="currency",
        )
    if not 1 <= request.quantity <= ownership.MAX_OWNED_QUANTITY:
        raise InvalidRequest(
            "quantity_invalid",
            f"quantity must be 1 to {ownership.MAX_OWNED_QUANTITY}",
            param="quantity",
        )
    if request.quantity > 1 and not product.stackable:
        raise InvalidRequest(
            "quantity_invalid",
            f"{product.id!r} is not stackable: quantity must be 1",
            param="quantity",
        )
    return _Offer(catalog, product, price, currency, request.quantity)


def _customer_currency(session: Session, ref: CustomerRef) -> str | None:
    """The currency of the customer's latest completed checkout, if any."""
    return session.scalars(
        select(CheckoutSession.currency)
        .where(
            CheckoutSession.customer_type == ref.type,
            CheckoutSession.customer_id == ref.id,
            CheckoutSession.status == "complete",
        )
        .order_by(CheckoutSession.created_at.desc())
        .limit(1)
    ).first()


def _check_purchasable(session: Session, request: CheckoutRequest, offer: _Offer) -> None:
    owned = ownership.live_ownerships(session, request.ref)
    ownership.check_can_own(session, request.ref, offer.product, owned)


def _metadata(request: CheckoutRequest, offer: _Offer) -> dict[str, str]:
    return {
        META_CUSTOMER_TYPE: request.ref.type,
        META_CUSTOMER_ID: request.ref.id,
        META_PRODUCT_ID: offer.product.id,
        META_PRICE_ID: offer.price.id,
        META_CATALOG_VERSION: offer.catalog.version,
        META_QUANTITY: str(offer.quantity),
    }


def session_params(
    request: CheckoutRequest,
    offer: _Offer,
    *,
    stripe_customer_id: str,
    stripe_price_id: str,
    success_url: str,
    cancel_url: str,
) -> dict[str, Any]:
    """The Checkout Session to create. Metadata goes both on the session and on what it
    creates (subscription or payment intent): the sync and the reconciler read it back."""
    metadata = _metadata(request, offer)
    params: dict[str, Any] = {
        "customer": stripe_customer_id,
        "line_items": [{"price": stripe_price_id, "quantity": offer.quantity}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        "client_reference_id": f"{request.ref.type}:{request.ref.id}"[:200],
    }
    if offer.price.is_recurring:
        params["mode"] = "subscription"
        subscription_data: dict[str, Any] = {"metadata": metadata}
        trial_days = offer.product.effective_trial_days(offer.price.id)
        if trial_days:
            subscription_data["trial_period_days"] = trial_days
        params["subscription_data"] = subscription_data
    else:
        params["mode"] = "payment"
        params["payment_intent_data"] = {"metadata": metadata}
    return params


def _stripe_idempotency_key(request: CheckoutRequest, params: dict[str, Any]) -> str | None:
    if request.idempotency_key is None:
        return None
    # The parameters are part of the key: the API's idempotency layer refuses a reused key
    # with another body, and Stripe must not see one key with two sets of parameters.
    digest = hashlib.sha256(
        (request.idempotency_key + "\x00" + repr(sorted(params.items()))).encode()
    ).hexdigest()[:40]
    return f"plangate-checkout-{digest}"


def create_checkout(deps: Deps, request: CheckoutRequest, now: datetime) -> CheckoutCreated:
    """Refuse, or create a Checkout Session and remember it. Grants nothing."""
    settings = deps.settings
    if settings.block_new_purchases:
        raise PermissionDenied(
            "purchases_blocked", "this installation does not accept new purchases right now"
        )
    success_url = (
        validate_redirect_url(request.success_url, settings, param="success_url")
        if request.success_url
        else settings.base_url.rstrip("/") + SUCCESS_PATH
    )
    cancel_url = (
        validate_redirect_url(request.cancel_url, settings, param="cancel_url")
        if request.cancel_url
        else settings.base_url.rstrip("/") + CANCEL_PATH
    )
    # Unit of work 1: refusals, and the plangate customer committed before Stripe hears of it.
    with deps.db.write() as session:
        offer = resolve_offer(
            deps.catalogs.active(session), request, _customer_currency(session, request.ref)
        )
        ensure_customer_row(session, request.ref, now)
        _check_purchasable(session, request, offer)
    test_mode = deps.gateway.name == "test"
    try:
        # Unit of work 2 (inside): the customer row is locked while its Stripe customer is
        # created, and only then. Test mode has no Stripe customer.
        stripe_customer_id = (
            ""
            if test_mode
            else ensure_stripe_customer(
                deps.db,
                deps.gateway,
                request.ref,
                now,
                # Test clocks exist in test mode only; a live key never sends one.
                test_clock=(
                    settings.stripe_test_clock or None
                    if settings.stripe_api_key.startswith("sk_test_")
                    else None
                ),
            )
        )
        key = lookup_key(offer.product.id, offer.price.id, offer.currency)
        stripe_price = deps.gateway.find_price(key)
        if stripe_price is None:
            raise Conflict(
                "price_not_pushed",
                f"Stripe has no active price with lookup key {key!r}: "
                "run `plangate catalog push` after applying the catalog",
                param="price_id",
            )
        params = session_params(
            request,
            offer,
            stripe_customer_id=stripe_customer_id,
            stripe_price_id=str(stripe_price["id"]),
            success_url=success_url,
            cancel_url=cancel_url,
        )
        created = deps.gateway.create_checkout_session(
            params, idempotency_key=_stripe_idempotency_key(request, params) or _fresh_key()
        )
    except GatewayError as exc:
        raise GatewayFailed(
            "gateway_error", f"the payment gateway refused the checkout: {exc}"
        ) from exc
    expires_at = datetime.fromtimestamp(created.expires_at, UTC)
    # Unit of work 3: remember the session (a retry with the same key finds it already there).
    # In test mode the purchase is granted here, in the same transaction (services/test_mode).
    with deps.db.write() as session:
        if session.get(CheckoutSession, created.id) is None:
            row = CheckoutSession(
                id=created.id,
                customer_type=request.ref.type,
                customer_id=request.ref.id,
                product_id=offer.product.id,
                price_id=offer.price.id,
                currency=offer.currency,
                quantity=offer.quantity,
                mode=params["mode"],
                status="open",
                url=created.url,
                catalog_version=offer.catalog.version,
                expires_at=expires_at,
                created_at=now,
                completed_at=None,
                ownership_id=None,
            )
            session.add(row)
            if test_mode:
                owned = test_mode_checkout.complete_checkout(
                    session,
                    request.ref,
                    deps.catalogs.active(session),
                    offer.product,
                    offer.price,
                    now,
                    currency=offer.currency,
                    quantity=offer.quantity,
                    checkout_session_id=created.id,
                )
                row.status, row.completed_at, row.ownership_id = "complete", now, owned.id
    return CheckoutCreated(created.id, created.url, expires_at)


def _fresh_key() -> str:
    return f"plangate-checkout-{uuid.uuid4().hex}"


# --- polling --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutStatus:
    id: str
    status: str  # open | complete | expired
    fulfilled: bool
    product_id: str
    customer_type: str
    customer_id: str
    subscription_id: str | None


def checkout_status(deps: Deps, session_id: str, now: datetime) -> CheckoutStatus:
    """What the success page polls. Reads only: fulfilment is the sync's to record; a session
    Stripe calls complete counts as fulfilled once the ownership the sync made exists."""
    with deps.db.read() as session:
        row = session.get(CheckoutSession, session_id)
        if row is None:
            raise NotFound(
                "checkout_session_not_found", f"no checkout session {session_id!r}", param="id"
            )
        status, ownership_id = row.status, row.ownership_id
        base = (row.id, row.product_id, row.customer_type, row.customer_id)
    subscription_id: str | None = None
    if ownership_id is None and status == "open":
        # Stripe is the truth about the session's state until the sync has caught up.
        try:
            remote = deps.gateway.retrieve_checkout_session(session_id)
        except GatewayError:
            remote = None
        if remote is not None:
            status = str(remote.get("status") or status)
            subscription_id = remote.get("subscription") or None
    fulfilled = ownership_id is not None
    if not fulfilled and status == "complete":
        with deps.db.read() as session:
            fulfilled = _fulfilled_by_sync(session, session_id, subscription_id)
    return CheckoutStatus(base[0], status, fulfilled, base[1], base[2], base[3], subscription_id)


def _fulfilled_by_sync(session: Session, session_id: str, subscription_id: str | None) -> bool:
    conditions = [Ownership.stripe_checkout_session_id == session_id]
    if subscription_id:
        conditions.append(Ownership.stripe_subscription_id == subscription_id)
    found = session.scalars(select(Ownership).where(or_(*conditions))).first()
    return found is not None and ownership.grants_access(found)
