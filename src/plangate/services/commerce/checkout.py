"""Checkout: selling a catalog product through a Stripe Checkout Session.

On the stripe gateway, creating a session grants nothing. The customer pays on Stripe's page;
Stripe's webhooks drive the sync, which creates the ownership (DESIGN.md, "The one rule").
Here we only refuse what cannot be bought, make sure the Stripe customer exists, resolve the
Stripe price by its lookup key (never a stored ``price_...`` id, so a re-pushed catalog needs
no migration) and remember the session so the success page can poll it.

What differs per backend (services/purchases/backends) comes in as two arguments: who pays
(the Stripe customer; test mode has none) and, for a backend that fulfils at once (test
mode), the grant made in the transaction that records the session.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Price, Product
from plangate.errors import Conflict, GatewayFailed, InvalidRequest, NotFound, PermissionDenied
from plangate.gateways.base import CheckoutSessionCreated as CreatedSession
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
from plangate.services.commerce.checkout_discounts import (
    refused_discount,
    resolve_discount,
    stripe_discount,
)
from plangate.services.commerce.metered_items import metered_line_items
from plangate.services.commerce.open_checkouts import (
    Purchase,
    discount_terms,
    open_session_of_line,
    reuse_or_expire,
    url_and_expiry,
)
from plangate.services.commerce.payment_errors import unavailable
from plangate.services.commerce.stripe_customers import ensure_stripe_customer
from plangate.services.commerce.tax import tax_params
from plangate.services.entitlements import ownership
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import (
    CustomerRef,
    insert_customer_if_missing,
    lock_customer,
)
from plangate.services.installation import purchases_blocked
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import CheckoutSession

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
    # A catalog promotion code, or Stripe's code field on its page (services/commerce/
    # checkout_discounts.py).
    promotion_code: str | None = None
    allow_promotion_codes: bool = False


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
class Offer:
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
) -> Offer:
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
    return Offer(catalog, product, price, currency, request.quantity)


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


def _check_purchasable(session: Session, request: CheckoutRequest, offer: Offer) -> None:
    owned = ownership.live_ownerships(session, request.ref)
    ownership.check_can_own(session, request.ref, offer.product, owned)


def _metadata(request: CheckoutRequest, offer: Offer) -> dict[str, str]:
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
    offer: Offer,
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


# Who pays: the customer's id at the payment processor, made on first need.
PaymentCustomer = Callable[[CustomerRef, datetime], str]
# Fulfils a checkout at once, in the transaction that records its session; answers the
# ownership's id.
FulfilAtOnce = Callable[[Session, CheckoutRequest, Offer, str, datetime], int]


def stripe_payment_customer(deps: Deps, ref: CustomerRef, now: datetime) -> str:
    """The customer's Stripe customer. Unit of work of its own: the customer row is locked
    while the Stripe customer is created, and only then."""
    settings = deps.settings
    return ensure_stripe_customer(
        deps.db,
        deps.gateway,
        ref,
        now,
        # Test clocks exist in Stripe's test mode only; a live key never sends one.
        test_clock=(
            settings.stripe_test_clock or None
            if settings.stripe_api_key.startswith("sk_test_")
            else None
        ),
    )


def create_checkout(
    deps: Deps,
    request: CheckoutRequest,
    now: datetime,
    *,
    payment_customer: PaymentCustomer,
    fulfil_at_once: FulfilAtOnce | None = None,
) -> CheckoutCreated:
    """Refuse, or create a Checkout Session and remember it. Grants nothing, unless the
    backend fulfils at once (``fulfil_at_once``)."""
    settings = deps.settings
    if settings.block_new_purchases or purchases_blocked(deps.db):
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
        discount = resolve_discount(
            offer.catalog,
            request.promotion_code,
            request.allow_promotion_codes,
            currency=offer.currency,
            subtotal=offer.price.minor_amount(offer.currency) * offer.quantity,
        )
        insert_customer_if_missing(session, request.ref, now)
        _check_purchasable(session, request, offer)
    params: dict[str, Any] = {}
    try:
        # Unit of work 2 (inside, on Stripe): the payment customer.
        payer = payment_customer(request.ref, now)
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
            stripe_customer_id=payer,
            stripe_price_id=str(stripe_price["id"]),
            success_url=success_url,
            cancel_url=cancel_url,
        )
        params.update(stripe_discount(deps.gateway, discount))
        params["line_items"] += metered_line_items(deps.gateway, offer.catalog, offer.product,
                                                   offer.price, offer.currency)
        params.update(tax_params(settings))
        # Unit of work 3: the customer's row stays locked from the look for an open session
        # of the line to the record of the new one, Stripe calls included: the lock is the
        # point, so that two tabs cannot both open one (services/commerce/open_checkouts.py).
        # A retry with the same key finds its session already recorded.
        with deps.db.write() as session:
            lock_customer(session, request.ref, now)
            found = open_session_of_line(session, request.ref, offer.catalog, offer.product, now)
            wanted = Purchase(
                offer.product.id,
                offer.price.id,
                offer.currency,
                offer.quantity,
                *discount_terms(params),
            )
            if found is not None and reuse_or_expire(deps.gateway, found, wanted) is not None:
                return CheckoutCreated(found.id, *url_and_expiry(found))
            created = deps.gateway.create_checkout_session(
                params, idempotency_key=_stripe_idempotency_key(request, params) or _fresh_key()
            )
            _record(session, request, offer, params["mode"], created, now, fulfil_at_once)
    except GatewayError as exc:
        refused = refused_discount(exc, params)
        if refused is not None:
            raise refused from exc
        if exc.retryable:
            raise unavailable(exc, " for the checkout") from exc
        raise GatewayFailed(
            "gateway_error", f"the payment gateway refused the checkout: {exc}"
        ) from exc
    return CheckoutCreated(created.id, created.url, datetime.fromtimestamp(created.expires_at, UTC))


def _record(
    session: Session,
    request: CheckoutRequest,
    offer: Offer,
    mode: str,
    created: CreatedSession,
    now: datetime,
    fulfil_at_once: FulfilAtOnce | None,
) -> None:
    if session.get(CheckoutSession, created.id) is not None:
        return
    row = CheckoutSession(
        id=created.id,
        customer_type=request.ref.type,
        customer_id=request.ref.id,
        product_id=offer.product.id,
        price_id=offer.price.id,
        currency=offer.currency,
        quantity=offer.quantity,
        mode=mode,
        status="open",
        url=created.url,
        catalog_version=offer.catalog.version,
        expires_at=datetime.fromtimestamp(created.expires_at, UTC),
        created_at=now,
        completed_at=None,
        ownership_id=None,
    )
    session.add(row)
    if fulfil_at_once is not None:
        owned_id = fulfil_at_once(session, request, offer, created.id, now)
        row.status, row.completed_at, row.ownership_id = "complete", now, owned_id


def _fresh_key() -> str:
    return f"plangate-checkout-{uuid.uuid4().hex}"
