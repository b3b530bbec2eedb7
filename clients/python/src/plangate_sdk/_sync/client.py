# Generated from plangate_sdk/_async/client.py by clients/python/scripts/generate_sync.py
# (make generate): edit the async source, never this file.
"""The asynchronous client, on ``httpx.Client``, and its customer handle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from plangate_sdk import calls, team_calls
from plangate_sdk._sync.billing import BillingMethods
from plangate_sdk.binding import CustomerHandleBase, bind_customer
from plangate_sdk.models import (
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
    ItemChanged,
    ItemOut,
    MemberList,
    MemberOut,
    PlanChangeOut,
    PlanChangePreviewOut,
    ProductList,
    TeamRole,
    TransactionList,
)


class Client(BillingMethods):
    """plangate's REST API for a Python backend.

    >>> with Client(api_key="sk_...") as plangate:
    ...     plangate.has("user", "u1", feature="export")
    """

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
        :class:`~plangate_sdk.EntitlementVerifier`)."""
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
        promotion_code: str | None = None,
        allow_promotion_codes: bool = False,
    ) -> CheckoutSessionCreated:
        """A checkout session for one product; send the customer to its ``url``. Paying grants
        the product (on the test gateway the purchase is complete at once). A catalog
        ``promotion_code`` discounts it; ``allow_promotion_codes`` lets the customer type one
        on Stripe's page instead."""
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
                promotion_code=promotion_code,
                allow_promotion_codes=allow_promotion_codes,
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

    def switch_preview(
        self,
        customer_type: str,
        customer_id: str,
        from_product_id: str,
        to_product_id: str,
        *,
        price_id: str | None = None,
    ) -> PlanChangePreviewOut:
        """What ``switch`` would do and cost: the amount due now and the next invoice, in
        minor units. Changes nothing."""
        return self.send(
            calls.switch_preview(
                customer_type, customer_id, from_product_id, to_product_id, price_id=price_id
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

    # --- teams and customer sessions ------------------------------------------------------

    def team_members(self, team_id: str) -> MemberList:
        return self.send(team_calls.team_members(team_id))

    def set_team_member(
        self, team_id: str, user_id: str, role: TeamRole = "member"
    ) -> MemberOut:
        """Adds a member (needs a free seat: 409 ``seat_limit_reached``) or changes its role."""
        return self.send(team_calls.set_team_member(team_id, user_id, role))

    def remove_team_member(self, team_id: str, user_id: str) -> None:
        return self.send(team_calls.remove_team_member(team_id, user_id))

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
            team_calls.create_customer_session(
                user_id, teams=teams, expires_in=expires_in, idempotency_key=idempotency_key
            )
        )


class CustomerHandle(CustomerHandleBase["Client"]):
    """``client.customer("user", "u1")``: the client's calls about one customer, with the
    customer bound (``handle.grant("pro")`` is ``client.grant("user", "u1", "pro")``)."""

    upsert = bind_customer(Client.upsert_customer)
    get = bind_customer(Client.get_customer)
    grant = bind_customer(Client.grant)
    revoke = bind_customer(Client.revoke)
    products = bind_customer(Client.products)
    entitlements = bind_customer(Client.entitlements)
    check = bind_customer(Client.check)
    has = bind_customer(Client.has)
    entitlement_token = bind_customer(Client.entitlement_token)
    item = bind_customer(Client.item)
    change_item = bind_customer(Client.change_item)
    consume = bind_customer(Client.consume)
    create_checkout = bind_customer(Client.create_checkout)
    switch = bind_customer(Client.switch)
    cancel = bind_customer(Client.cancel)
    resume = bind_customer(Client.resume)
    portal_session = bind_customer(Client.portal_session)
    billing = bind_customer(Client.billing)
    create_setup_intent = bind_customer(Client.create_setup_intent)
    set_default_payment_method = bind_customer(Client.set_default_payment_method)
    invoices = bind_customer(Client.invoices)
    record_usage = bind_customer(Client.record_usage)
    usage = bind_customer(Client.usage)

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
