"""The asynchronous client, on ``httpx.AsyncClient``, and its customer handle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from plangate_sdk import calls, team_calls
from plangate_sdk._async.billing import AsyncBillingMethods
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


class AsyncClient(AsyncBillingMethods):
    """plangate's REST API for a Python backend.

    >>> async with AsyncClient(api_key="sk_...") as plangate:
    ...     await plangate.has("user", "u1", feature="export")
    """

    def customer(self, customer_type: str, customer_id: str) -> AsyncCustomerHandle:
        """The calls about one customer, without repeating who: ``.has(feature="export")``."""
        return AsyncCustomerHandle(self, customer_type, customer_id)

    # --- customers ------------------------------------------------------------------------

    async def upsert_customer(
        self,
        customer_type: str,
        customer_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> CustomerOut:
        return await self.send(
            calls.upsert_customer(
                customer_type, customer_id, email=email, name=name, metadata=metadata
            )
        )

    async def get_customer(self, customer_type: str, customer_id: str) -> CustomerOut:
        return await self.send(calls.get_customer(customer_type, customer_id))

    # --- products -------------------------------------------------------------------------

    async def grant(
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
        return await self.send(
            calls.grant(
                customer_type,
                customer_id,
                product_id,
                product=product,
                quantity=quantity,
                idempotency_key=idempotency_key,
            )
        )

    async def revoke(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> ProductList:
        return await self.send(
            calls.revoke(customer_type, customer_id, product_id, idempotency_key=idempotency_key)
        )

    async def products(self, customer_type: str, customer_id: str) -> ProductList:
        return await self.send(calls.products(customer_type, customer_id))

    # --- entitlements ---------------------------------------------------------------------

    async def entitlements(self, customer_type: str, customer_id: str) -> EntitlementsOut:
        return await self.send(calls.entitlements(customer_type, customer_id))

    async def check(
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
        return await self.send(
            calls.check(
                customer_type, customer_id, feature=feature, plan=plan, item=item, quantity=quantity
            )
        )

    async def has(
        self,
        customer_type: str,
        customer_id: str,
        *,
        feature: str | None = None,
        plan: str | None = None,
    ) -> bool:
        return await self.send(calls.has(customer_type, customer_id, feature=feature, plan=plan))

    async def entitlement_token(
        self,
        customer_type: str | None = None,
        customer_id: str | None = None,
        *,
        team_id: str | None = None,
    ) -> EntitlementToken:
        """A signed JWT of the customer's plans and features, verifiable offline (see
        :class:`~plangate_sdk.EntitlementVerifier`)."""
        return await self.send(calls.entitlement_token(customer_type, customer_id, team_id))

    async def jwks(self) -> dict[str, Any]:
        return await self.send(calls.jwks())

    # --- items ----------------------------------------------------------------------------

    async def item(self, customer_type: str, customer_id: str, item_id: str) -> ItemOut:
        return await self.send(calls.item(customer_type, customer_id, item_id))

    async def change_item(
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
        return await self.send(
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

    async def consume(
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
        return await self.send(
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

    async def apply_catalog(self, catalog: str | Mapping[str, Any]) -> CatalogApplied:
        """Applies a catalog: TOML text (``plangate.toml``) or its JSON form as a mapping."""
        return await self.send(calls.apply_catalog(catalog))

    async def get_catalog(self) -> CatalogOut:
        return await self.send(calls.get_catalog())

    # --- checkout and purchases -----------------------------------------------------------

    async def create_checkout(
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
        return await self.send(
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

    async def get_checkout_session(self, session_id: str) -> CheckoutSessionOut:
        return await self.send(calls.get_checkout_session(session_id))

    async def switch(
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
        return await self.send(
            calls.switch(
                customer_type,
                customer_id,
                from_product_id,
                to_product_id,
                price_id=price_id,
                idempotency_key=idempotency_key,
            )
        )

    async def switch_preview(
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
        return await self.send(
            calls.switch_preview(
                customer_type, customer_id, from_product_id, to_product_id, price_id=price_id
            )
        )

    async def cancel(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str,
        *,
        immediately: bool = False,
        idempotency_key: str | None = None,
    ) -> CancelledOut:
        """Cancels a subscription at the period end, or now with ``immediately=True``."""
        return await self.send(
            calls.cancel(
                customer_type,
                customer_id,
                product_id,
                immediately=immediately,
                idempotency_key=idempotency_key,
            )
        )

    async def resume(
        self,
        customer_type: str,
        customer_id: str,
        product_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> CancelledOut:
        """Takes back a cancellation at the period end."""
        return await self.send(
            calls.resume(customer_type, customer_id, product_id, idempotency_key=idempotency_key)
        )

    # --- teams and customer sessions ------------------------------------------------------

    async def team_members(self, team_id: str) -> MemberList:
        return await self.send(team_calls.team_members(team_id))

    async def set_team_member(
        self, team_id: str, user_id: str, role: TeamRole = "member"
    ) -> MemberOut:
        """Adds a member (needs a free seat: 409 ``seat_limit_reached``) or changes its role."""
        return await self.send(team_calls.set_team_member(team_id, user_id, role))

    async def remove_team_member(self, team_id: str, user_id: str) -> None:
        return await self.send(team_calls.remove_team_member(team_id, user_id))

    async def create_customer_session(
        self,
        user_id: str,
        *,
        teams: Mapping[str, TeamRole] | None = None,
        expires_in: int | None = None,
        idempotency_key: str | None = None,
    ) -> CustomerSessionOut:
        """A short-lived client token for ``user_id`` and its team roles (server only)."""
        return await self.send(
            team_calls.create_customer_session(
                user_id, teams=teams, expires_in=expires_in, idempotency_key=idempotency_key
            )
        )


class AsyncCustomerHandle(CustomerHandleBase["AsyncClient"]):
    """``client.customer("user", "u1")``: the client's calls about one customer, with the
    customer bound (``handle.grant("pro")`` is ``client.grant("user", "u1", "pro")``)."""

    upsert = bind_customer(AsyncClient.upsert_customer)
    get = bind_customer(AsyncClient.get_customer)
    grant = bind_customer(AsyncClient.grant)
    revoke = bind_customer(AsyncClient.revoke)
    products = bind_customer(AsyncClient.products)
    entitlements = bind_customer(AsyncClient.entitlements)
    check = bind_customer(AsyncClient.check)
    has = bind_customer(AsyncClient.has)
    entitlement_token = bind_customer(AsyncClient.entitlement_token)
    item = bind_customer(AsyncClient.item)
    change_item = bind_customer(AsyncClient.change_item)
    consume = bind_customer(AsyncClient.consume)
    create_checkout = bind_customer(AsyncClient.create_checkout)
    switch = bind_customer(AsyncClient.switch)
    cancel = bind_customer(AsyncClient.cancel)
    resume = bind_customer(AsyncClient.resume)
    portal_session = bind_customer(AsyncClient.portal_session)
    billing = bind_customer(AsyncClient.billing)
    create_setup_intent = bind_customer(AsyncClient.create_setup_intent)
    set_default_payment_method = bind_customer(AsyncClient.set_default_payment_method)
    invoices = bind_customer(AsyncClient.invoices)
    record_usage = bind_customer(AsyncClient.record_usage)
    usage = bind_customer(AsyncClient.usage)

    async def transactions(
        self,
        *,
        type: str | None = None,  # noqa: A002 - the API's name
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TransactionList:
        return await self.client.transactions(
            customer_type=self.customer_type,
            customer_id=self.customer_id,
            type=type,
            limit=limit,
            cursor=cursor,
        )


__all__ = ["AsyncClient", "AsyncCustomerHandle"]
