"""The synchronous client, on ``httpx.Client``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from plangate.sdk import billing_calls, calls
from plangate.sdk.calls import Call
from plangate.sdk.connection import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    ClientConfig,
    build_request,
    read_response,
)
from plangate.sdk.errors import connection_error
from plangate.sdk.models import (
    BillingOut,
    CancelledOut,
    CatalogApplied,
    CatalogOut,
    CheckoutSessionCreated,
    CheckoutSessionOut,
    CheckResult,
    CustomerOut,
    CustomerSessionOut,
    EntitlementsOut,
    EntitlementToken,
    GrantResult,
    InvoiceList,
    ItemChanged,
    ItemOut,
    MemberList,
    MemberOut,
    PlanChangeOut,
    PortalOut,
    ProductList,
    RefundOut,
    RefundReason,
    SetupOut,
    TeamRole,
    TransactionList,
)
from plangate.sdk.retry import RetryPolicy

T = TypeVar("T")


class Client:
    """plangate's REST API for a Python backend.

    >>> with Client(api_key="sk_...", base_url="http://127.0.0.1:8000") as plangate:
    ...     plangate.has("user", "u1", feature="export")
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        backoff: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = ClientConfig(
            api_key, base_url, timeout, RetryPolicy(max_retries=max_retries, backoff=backoff)
        )
        self._http = httpx.Client(transport=transport, **self.config.httpx_options())

    @property
    def base_url(self) -> str:
        return self.config.base_url.rstrip("/")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, call: Call[T]) -> T:
        """Sends ``call``, retrying per the policy with the same request (and idempotency key)."""
        retry = self.config.retry
        attempt = 0
        while True:
            request = build_request(self._http, call)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                if not retry.retries_error(call.method, exc, attempt):
                    raise connection_error(exc) from exc
                time.sleep(retry.delay(attempt))
            else:
                if not retry.retries_status(response.status_code, attempt):
                    return read_response(call, response)
                time.sleep(retry.delay(attempt, response.headers))
            attempt += 1

    def customer(self, customer_type: str, customer_id: str) -> CustomerHandle:
        """The calls about one customer, without repeating who: ``.has(feature="export")``."""
        return CustomerHandle(self, customer_type, customer_id)

    # --- customers ------------------------------------------------------------------------

    def upsert_customer(
        self,
        customer_type: str,
        customer_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> CustomerOut:
        return self.send(
            calls.upsert_customer(
                customer_type, customer_id, email=email, name=name, metadata=metadata
            )
        )

    def get_customer(self, customer_type: str, customer_id: str) -> CustomerOut:
        return self.send(calls.get_customer(customer_type, customer_id))

    # --- products -------------------------------------------------------------------------

    def grant(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str | None = None,
        *,
        product: Mapping[str, Any] | None = None,
        quantity: int = 1,
        idempotency_key: str | None = None,
    ) -> GrantResult:
        """Grants a catalog product (``product_id``) or an inline ``product`` definition."""
        return self.send(
            calls.grant(
                customer_type,
                customer_id,
                product_id,
                product=product,
                quantity=quantity,
                idempotency_key=idempotency_key,
            )
        )

    def revoke(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> ProductList:
        return self.send(
            calls.revoke(customer_type, customer_id, product_id, idempotency_key=idempotency_key)
        )

    def products(self, customer_type: str, customer_id: str) -> ProductList:
        return self.send(calls.products(customer_type, customer_id))

    # --- entitlements ---------------------------------------------------------------------

    def entitlements(self, customer_type: str, customer_id: str) -> EntitlementsOut:
        return self.send(calls.entitlements(customer_type, customer_id))

    def check(
        self,
        customer_type: str,
        customer_id: str,
        *,
        feature: str | None = None,
        plan: str | None = None,
        item: str | None = None,
        quantity: int = 1,
    ) -> CheckResult:
        """Exactly one of ``feature``, ``plan`` or ``item`` (with the ``quantity`` needed)."""
        return self.send(
            calls.check(
                customer_type, customer_id, feature=feature, plan=plan, item=item, quantity=quantity
            )
        )

    def has(
        self,
        customer_type: str,
        customer_id: str,
        *,
        feature: str | None = None,
        plan: str | None = None,
    ) -> bool:
        return self.send(calls.has(customer_type, customer_id, feature=feature, plan=plan))

    def entitlement_token(
        self,
        customer_type: str | None = None,
        customer_id: str | None = None,
        *,
        team_id: str | None = None,
    ) -> EntitlementToken:
        """A signed JWT of the customer's plans and features, verifiable offline (see
        :class:`~plangate.sdk.EntitlementVerifier`)."""
        return self.send(calls.entitlement_token(customer_type, customer_id, team_id))

    def jwks(self) -> dict[str, Any]:
        return self.send(calls.jwks())

    # --- items ----------------------------------------------------------------------------

    def item(self, customer_type: str, customer_id: str, item_id: str) -> ItemOut:
        return self.send(calls.item(customer_type, customer_id, item_id))

    def change_item(
        self,
        customer_type: str,
        customer_id: str,
        item_id: str,
        delta: int,
        *,
        expires_at: datetime | None = None,
        description: str | None = None,
        allow_negative: bool = False,
        idempotency_key: str | None = None,
    ) -> ItemChanged:
        return self.send(
            calls.change_item(
                customer_type,
                customer_id,
                item_id,
                delta,
                expires_at=expires_at,
                description=description,
                allow_negative=allow_negative,
                idempotency_key=idempotency_key,
            )
        )

    def consume(
        self,
        customer_type: str,
        customer_id: str,
        item_id: str,
        quantity: int = 1,
        *,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> ItemChanged:
        """Takes ``quantity`` or nothing: raises ``InsufficientQuantityError`` if short."""
        return self.send(
            calls.consume(
                customer_type,
                customer_id,
                item_id,
                quantity,
                description=description,
                idempotency_key=idempotency_key,
            )
        )

    # --- catalog --------------------------------------------------------------------------

    def apply_catalog(self, catalog: str | Mapping[str, Any]) -> CatalogApplied:
        """Applies a catalog: TOML text (``plangate.toml``) or its JSON form as a mapping."""
        return self.send(calls.apply_catalog(catalog))

    def get_catalog(self) -> CatalogOut:
        return self.send(calls.get_catalog())

    # --- checkout and purchases -----------------------------------------------------------

    def create_checkout(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str,
        *,
        price_id: str | None = None,
        currency: str | None = None,
        quantity: int = 1,
        success_url: str | None = None,
        cancel_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSessionCreated:
        """A checkout session for one product; send the customer to its ``url``. Paying grants
        the product (on the test gateway the purchase is complete at once)."""
        return self.send(
            calls.create_checkout(
                customer_type,
                customer_id,
                product_id,
                price_id=price_id,
                currency=currency,
                quantity=quantity,
                success_url=success_url,
                cancel_url=cancel_url,
                idempotency_key=idempotency_key,
            )
        )

    def get_checkout_session(self, session_id: str) -> CheckoutSessionOut:
        return self.send(calls.get_checkout_session(session_id))

    def switch(
        self,
        customer_type: str,
        customer_id: str,
        from_product_id: str,
        to_product_id: str,
        *,
        price_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> PlanChangeOut:
        """Switches a subscription within its line: an upgrade now (prorated and charged), a
        downgrade at the period end."""
        return self.send(
            calls.switch(
                customer_type,
                customer_id,
                from_product_id,
                to_product_id,
                price_id=price_id,
                idempotency_key=idempotency_key,
            )
        )

    def cancel(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str,
        *,
        immediately: bool = False,
        idempotency_key: str | None = None,
    ) -> CancelledOut:
        """Cancels a subscription at the period end, or now with ``immediately=True``."""
        return self.send(
            calls.cancel(
                customer_type,
                customer_id,
                product_id,
                immediately=immediately,
                idempotency_key=idempotency_key,
            )
        )

    def resume(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> CancelledOut:
        """Takes back a cancellation at the period end."""
        return self.send(
            calls.resume(customer_type, customer_id, product_id, idempotency_key=idempotency_key)
        )

    # --- billing --------------------------------------------------------------------------

    def portal_session(
        self,
        customer_type: str,
        customer_id: str,
        return_url: str,
        *,
        idempotency_key: str | None = None,
    ) -> PortalOut:
        """A link to Stripe's billing portal (in test mode, ``return_url`` itself)."""
        return self.send(
            billing_calls.portal_session(
                customer_type, customer_id, return_url, idempotency_key=idempotency_key
            )
        )

    def billing(self, customer_type: str, customer_id: str) -> BillingOut:
        return self.send(billing_calls.billing(customer_type, customer_id))

    def create_setup_intent(
        self,
        customer_type: str,
        customer_id: str,
        *,
        return_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> SetupOut:
        """Starts saving a card: a hosted page with ``return_url``, else a SetupIntent."""
        return self.send(
            billing_calls.create_setup_intent(
                customer_type, customer_id, return_url=return_url, idempotency_key=idempotency_key
            )
        )

    def set_default_payment_method(
        self,
        customer_type: str,
        customer_id: str,
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> BillingOut:
        return self.send(
            billing_calls.set_default_payment_method(
                customer_type, customer_id, payment_method_id, idempotency_key=idempotency_key
            )
        )

    def invoices(
        self,
        customer_type: str,
        customer_id: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> InvoiceList:
        """Newest first; pass ``next_cursor`` as ``cursor`` for the next page."""
        return self.send(
            billing_calls.invoices(customer_type, customer_id, limit=limit, cursor=cursor)
        )

    def transactions(
        self,
        *,
        customer_type: str | None = None,
        customer_id: str | None = None,
        type: str | None = None,  # noqa: A002 - the API's name
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TransactionList:
        """Payments, refunds and disputes, newest first (server only)."""
        return self.send(
            billing_calls.transactions(
                customer_type=customer_type,
                customer_id=customer_id,
                type=type,
                limit=limit,
                cursor=cursor,
            )
        )

    def refund(
        self,
        *,
        payment_intent_id: str | None = None,
        invoice_id: str | None = None,
        transaction_id: str | None = None,
        amount: int | None = None,
        amount_decimal: str | None = None,
        currency: str | None = None,
        reason: RefundReason | None = None,
        idempotency_key: str | None = None,
    ) -> RefundOut:
        """Refunds a payment named by exactly one of ``payment_intent_id``, ``invoice_id`` or
        ``transaction_id``: all that is left, ``amount`` minor units, or ``amount_decimal``
        with ``currency`` (server only)."""
        return self.send(
            billing_calls.refund(
                payment_intent_id=payment_intent_id,
                invoice_id=invoice_id,
                transaction_id=transaction_id,
                amount=amount,
                amount_decimal=amount_decimal,
                currency=currency,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )

    # --- teams and customer sessions ------------------------------------------------------

    def team_members(self, team_id: str) -> MemberList:
        return self.send(calls.team_members(team_id))

    def set_team_member(self, team_id: str, user_id: str, role: TeamRole = "member") -> MemberOut:
        """Adds a member (needs a free seat: 409 ``seat_limit_reached``) or changes its role."""
        return self.send(calls.set_team_member(team_id, user_id, role))

    def remove_team_member(self, team_id: str, user_id: str) -> None:
        return self.send(calls.remove_team_member(team_id, user_id))

    def create_customer_session(
        self,
        user_id: str,
        *,
        teams: Mapping[str, TeamRole] | None = None,
        expires_in: int | None = None,
        idempotency_key: str | None = None,
    ) -> CustomerSessionOut:
        """A short-lived client token for ``user_id`` and its team roles (server only)."""
        return self.send(
            calls.create_customer_session(
                user_id, teams=teams, expires_in=expires_in, idempotency_key=idempotency_key
            )
        )


class CustomerHandle:
    """``client.customer("user", "u1")``: the customer calls with the customer bound."""

    def __init__(self, client: Client, customer_type: str, customer_id: str) -> None:
        self.client = client
        self.customer_type = customer_type
        self.customer_id = customer_id

    def __repr__(self) -> str:
        return f"<CustomerHandle {self.customer_type}/{self.customer_id}>"

    def upsert(
        self,
        *,
        email: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> CustomerOut:
        return self.client.upsert_customer(
            self.customer_type, self.customer_id, email=email, name=name, metadata=metadata
        )

    def get(self) -> CustomerOut:
        return self.client.get_customer(self.customer_type, self.customer_id)

    def grant(
        self,
        product_id: str | None = None,
        *,
        product: Mapping[str, Any] | None = None,
        quantity: int = 1,
        idempotency_key: str | None = None,
    ) -> GrantResult:
        return self.client.grant(
            self.customer_type,
            self.customer_id,
            product_id,
            product=product,
            quantity=quantity,
            idempotency_key=idempotency_key,
        )

    def revoke(self, product_id: str, *, idempotency_key: str | None = None) -> ProductList:
        return self.client.revoke(
            self.customer_type, self.customer_id, product_id, idempotency_key=idempotency_key
        )

    def products(self) -> ProductList:
        return self.client.products(self.customer_type, self.customer_id)

    def entitlements(self) -> EntitlementsOut:
        return self.client.entitlements(self.customer_type, self.customer_id)

    def check(
        self,
        *,
        feature: str | None = None,
        plan: str | None = None,
        item: str | None = None,
        quantity: int = 1,
    ) -> CheckResult:
        return self.client.check(
            self.customer_type,
            self.customer_id,
            feature=feature,
            plan=plan,
            item=item,
            quantity=quantity,
        )

    def has(self, *, feature: str | None = None, plan: str | None = None) -> bool:
        return self.client.has(self.customer_type, self.customer_id, feature=feature, plan=plan)

    def entitlement_token(self) -> EntitlementToken:
        return self.client.entitlement_token(self.customer_type, self.customer_id)

    def item(self, item_id: str) -> ItemOut:
        return self.client.item(self.customer_type, self.customer_id, item_id)

    def change_item(
        self,
        item_id: str,
        delta: int,
        *,
        expires_at: datetime | None = None,
        description: str | None = None,
        allow_negative: bool = False,
        idempotency_key: str | None = None,
    ) -> ItemChanged:
        return self.client.change_item(
            self.customer_type,
            self.customer_id,
            item_id,
            delta,
            expires_at=expires_at,
            description=description,
            allow_negative=allow_negative,
            idempotency_key=idempotency_key,
        )

    def consume(
        self,
        item_id: str,
        quantity: int = 1,
        *,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> ItemChanged:
        return self.client.consume(
            self.customer_type,
            self.customer_id,
            item_id,
            quantity,
            description=description,
            idempotency_key=idempotency_key,
        )

    def create_checkout(
        self,
        product_id: str,
        *,
        price_id: str | None = None,
        currency: str | None = None,
        quantity: int = 1,
        success_url: str | None = None,
        cancel_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> CheckoutSessionCreated:
        return self.client.create_checkout(
            self.customer_type,
            self.customer_id,
            product_id,
            price_id=price_id,
            currency=currency,
            quantity=quantity,
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=idempotency_key,
        )

    def switch(
        self,
        from_product_id: str,
        to_product_id: str,
        *,
        price_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> PlanChangeOut:
        return self.client.switch(
            self.customer_type,
            self.customer_id,
            from_product_id,
            to_product_id,
            price_id=price_id,
            idempotency_key=idempotency_key,
        )

    def cancel(
        self, product_id: str, *, immediately: bool = False, idempotency_key: str | None = None
    ) -> CancelledOut:
        return self.client.cancel(
            self.customer_type,
            self.customer_id,
            product_id,
            immediately=immediately,
            idempotency_key=idempotency_key,
        )

    def resume(self, product_id: str, *, idempotency_key: str | None = None) -> CancelledOut:
        return self.client.resume(
            self.customer_type, self.customer_id, product_id, idempotency_key=idempotency_key
        )

    def portal_session(self, return_url: str, *, idempotency_key: str | None = None) -> PortalOut:
        return self.client.portal_session(
            self.customer_type, self.customer_id, return_url, idempotency_key=idempotency_key
        )

    def billing(self) -> BillingOut:
        return self.client.billing(self.customer_type, self.customer_id)

    def create_setup_intent(
        self, *, return_url: str | None = None, idempotency_key: str | None = None
    ) -> SetupOut:
        return self.client.create_setup_intent(
            self.customer_type,
            self.customer_id,
            return_url=return_url,
            idempotency_key=idempotency_key,
        )

    def set_default_payment_method(
        self, payment_method_id: str, *, idempotency_key: str | None = None
    ) -> BillingOut:
        return self.client.set_default_payment_method(
            self.customer_type,
            self.customer_id,
            payment_method_id,
            idempotency_key=idempotency_key,
        )

    def invoices(self, *, limit: int | None = None, cursor: str | None = None) -> InvoiceList:
        return self.client.invoices(
            self.customer_type, self.customer_id, limit=limit, cursor=cursor
        )

    def transactions(
        self,
        *,
        type: str | None = None,  # noqa: A002 - the API's name
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TransactionList:
        return self.client.transactions(
            customer_type=self.customer_type,
            customer_id=self.customer_id,
            type=type,
            limit=limit,
            cursor=cursor,
        )


__all__ = ["Client", "CustomerHandle"]
