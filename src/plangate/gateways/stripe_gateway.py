"""The ``stripe`` gateway: the official SDK's client, against real Stripe or the sandbox.

Each method is one Stripe call (auto-paging lists aside); objects leave as JSON dicts so that
nothing above the gateway layer depends on the SDK. SDK errors become :class:`GatewayError`:
a missing object is :class:`GatewayNotFound`, network trouble, 429 and 5xx are retryable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import stripe

from plangate.gateways.base import (
    CallBudget,
    CheckoutSessionCreated,
    GatewayError,
    GatewayNotFound,
    StripeDict,
)
from plangate.gateways.meter_events import send_meter_event
from plangate.gateways.stripe_client import META_CUSTOMER_TYPE, make_stripe_client
from plangate.gateways.stripe_http import replayed
from plangate.gateways.stripe_payouts import PayoutReads
from plangate.gateways.stripe_schedules import ScheduleCalls
from plangate.gateways.stripe_tax import StripeTaxCalls
from plangate.settings import Settings

T = TypeVar("T")

# A year of a busy customer's payment intents or checkout sessions is well under this; the
# cap only stops a runaway pager from holding a reconciliation forever.
MAX_LISTED = 1000
# The most a Stripe list returns per call.
PAGE = 100


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            raise GatewayNotFound(exc.user_message or str(exc)) from exc
        raise GatewayError(
            exc.user_message or str(exc),
            code="gateway_invalid_request",
            http_status=exc.http_status,
            param=exc.param,
        ) from exc
    except stripe.IdempotencyError as exc:
        # One Idempotency-Key sent with other parameters: a client reused its key.
        raise GatewayError(
            exc.user_message or str(exc), code="idempotency_key_reused", http_status=400
        ) from exc
    except stripe.CardError as exc:
        raise GatewayError(
            exc.user_message or str(exc), code="card_declined", http_status=exc.http_status
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise GatewayError(str(exc), code="gateway_unavailable", retryable=True) from exc
    except stripe.StripeError as exc:
        status = exc.http_status
        raise GatewayError(
            exc.user_message or str(exc),
            code="gateway_error",
            http_status=status,
            # A 5xx Stripe replayed from its idempotency record is the answer for good.
            retryable=(status is None or status >= 500 or status == 409)
            and not replayed(exc.headers),
        ) from exc


def _as_dict(obj: Any) -> StripeDict:
    result: StripeDict = obj.to_dict()
    return result


def _page(page: Any) -> tuple[list[StripeDict], bool]:
    return [_as_dict(obj) for obj in page.data], bool(page.has_more)


def _all(pages: Any, cap: int = MAX_LISTED) -> list[StripeDict]:
    out: list[StripeDict] = []
    for obj in pages.auto_paging_iter():
        out.append(_as_dict(obj))
        if len(out) >= cap:
            break
    return out


class StripeGateway(ScheduleCalls, StripeTaxCalls, PayoutReads):
    """Gateway protocol over ``stripe.StripeClient``."""

    name = "stripe"

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    @classmethod
    def from_settings(
        cls, settings: Settings, budget: CallBudget | None = None, *, interactive: bool = False
    ) -> StripeGateway:
        return cls(make_stripe_client(settings, budget, interactive=interactive))

    def _call(self, fn: Callable[[], T]) -> T:
        with _translated():
            return fn()

    # --- customers ----------------------------------------------------------------------

    def create_customer(
        self,
        *,
        email: str | None,
        name: str | None,
        metadata: Mapping[str, str],
        idempotency_key: str,
        test_clock: str | None = None,
    ) -> StripeDict:
        params: dict[str, Any] = {"metadata": dict(metadata)}
        if email:
            params["email"] = email
        if name:
            params["name"] = name
        if test_clock:
            params["test_clock"] = test_clock
        return self._call(
            lambda: _as_dict(
                self.client.v1.customers.create(
                    params,  # type: ignore[arg-type]
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def retrieve_customer(self, customer_id: str) -> StripeDict:
        return self._call(lambda: _as_dict(self.client.v1.customers.retrieve(customer_id)))

    def list_customers_with_metadata(self) -> Sequence[StripeDict]:
        # One exact-match search per customer type (negated clauses are not portable). Search
        # is eventually consistent at Stripe (about a minute); reconciliation runs
        # periodically, so a customer missed now is found on the next run.
        def search(customer_type: str) -> list[StripeDict]:
            query = f"metadata['{META_CUSTOMER_TYPE}']:'{customer_type}'"
            pages = self.client.v1.customers.search({"query": query, "limit": 100})
            return _all(pages, cap=100_000)

        found: dict[str, StripeDict] = {}
        with _translated():
            for customer_type in ("user", "team", "custom"):
                found.update((c["id"], c) for c in search(customer_type))
        return list(found.values())

    # --- prices ---------------------------------------------------------------------------

    def find_price(self, lookup_key: str) -> StripeDict | None:
        prices = self._call(
            lambda: self.client.v1.prices.list({"lookup_keys": [lookup_key], "active": True})
        )
        return _as_dict(prices.data[0]) if prices.data else None

    # --- promotion codes ------------------------------------------------------------------

    def find_promotion_code(self, code: str) -> StripeDict | None:
        codes = self._call(
            lambda: self.client.v1.promotion_codes.list({"code": code, "active": True})
        )
        return _as_dict(codes.data[0]) if codes.data else None

    # --- checkout -------------------------------------------------------------------------

    def create_checkout_session(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> CheckoutSessionCreated:
        session = self._call(
            lambda: self.client.v1.checkout.sessions.create(
                dict(params),  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        )
        return CheckoutSessionCreated(
            id=session.id, url=session.url or "", expires_at=int(session.expires_at)
        )

    def retrieve_checkout_session(self, session_id: str) -> StripeDict:
        return self._call(
            lambda: _as_dict(
                self.client.v1.checkout.sessions.retrieve(session_id, {"expand": ["line_items"]})
            )
        )

    def expire_checkout_session(self, session_id: str, *, idempotency_key: str) -> StripeDict:
        return self._call(
            lambda: _as_dict(
                self.client.v1.checkout.sessions.expire(
                    session_id, options={"idempotency_key": idempotency_key}
                )
            )
        )

    def list_checkout_sessions(self, customer_id: str) -> Sequence[StripeDict]:
        return self._call(
            lambda: _all(
                self.client.v1.checkout.sessions.list({"customer": customer_id, "limit": 100})
            )
        )

    # --- subscriptions --------------------------------------------------------------------

    def retrieve_subscription(self, subscription_id: str) -> StripeDict:
        return self._call(
            lambda: _as_dict(
                # The latest invoice with its payments comes along: the sync of that
                # invoice's events reuses it (services/stripe_sync/batch.py).
                self.client.v1.subscriptions.retrieve(
                    subscription_id,
                    # The schedule says what changes at the period end (a downgrade).
                    {
                        "expand": [
                            "items.data.price",
                            "latest_invoice.payments",
                            "schedule",
                            # Each discount's coupon: MRR net of discounts.
                            "discounts.source.coupon",
                        ]
                    },
                )
            )
        )

    def list_subscriptions(self, customer_id: str) -> Sequence[StripeDict]:
        return self._call(
            lambda: _all(
                self.client.v1.subscriptions.list(
                    {
                        "customer": customer_id,
                        "status": "all",
                        "limit": 100,
                        "expand": [
                            "data.items.data.price",
                            "data.schedule",
                            "data.discounts.source.coupon",
                        ],
                    }
                )
            )
        )

    def list_subscriptions_page(
        self, *, period_start_gte: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        params: dict[str, Any] = {
            "status": "all",
            "current_period_start": {"gte": period_start_gte},
            "limit": PAGE,
            # What retrieve_subscription expands; a list's paths start with ``data``, and
            # Stripe expands at most four levels deep.
            "expand": [
                "data.items.data.price",
                "data.latest_invoice.payments",
                "data.schedule",
                "data.discounts.source.coupon",
            ],
        }
        if starting_after is not None:
            params["starting_after"] = starting_after
        return self._call(lambda: _page(self.client.v1.subscriptions.list(params)))  # type: ignore[arg-type]

    # --- payments -------------------------------------------------------------------------

    def retrieve_invoice(self, invoice_id: str) -> StripeDict:
        # ``payments`` is includable only: it names the payment intents since Basil.
        return self._call(
            lambda: _as_dict(self.client.v1.invoices.retrieve(invoice_id, {"expand": ["payments"]}))
        )

    def retrieve_payment_intent(self, payment_intent_id: str) -> StripeDict:
        return self._call(
            lambda: _as_dict(self.client.v1.payment_intents.retrieve(payment_intent_id))
        )

    def retrieve_charge(self, charge_id: str) -> StripeDict:
        # Since API version 2022-11-15 a charge lists its refunds only when asked to.
        return self._call(
            lambda: _as_dict(self.client.v1.charges.retrieve(charge_id, {"expand": ["refunds"]}))
        )

    def list_refunds(self, charge_id: str) -> Sequence[StripeDict]:
        return self._call(
            lambda: _all(self.client.v1.refunds.list({"charge": charge_id, "limit": PAGE}))
        )

    def retrieve_refund(self, refund_id: str) -> StripeDict:
        return self._call(lambda: _as_dict(self.client.v1.refunds.retrieve(refund_id)))

    def retrieve_dispute(self, dispute_id: str) -> StripeDict:
        return self._call(lambda: _as_dict(self.client.v1.disputes.retrieve(dispute_id)))

    def list_payment_intents(self, customer_id: str) -> Sequence[StripeDict]:
        return self._call(
            lambda: _all(
                self.client.v1.payment_intents.list(
                    # The charge tells what was refunded, for the reconciler to compare.
                    {"customer": customer_id, "limit": PAGE, "expand": ["data.latest_charge"]}
                )
            )
        )

    def list_payment_intents_page(
        self, *, created_gte: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        params: dict[str, Any] = {"created": {"gte": created_gte}, "limit": PAGE}
        if starting_after is not None:
            params["starting_after"] = starting_after
        return self._call(lambda: _page(self.client.v1.payment_intents.list(params)))  # type: ignore[arg-type]

    # --- managing a purchase (services/purchases.py) --------------------------------------

    def update_subscription(
        self, subscription_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        body = {**params, "expand": ["items.data.price", "latest_invoice"]}
        return self._call(
            lambda: _as_dict(
                self.client.v1.subscriptions.update(
                    subscription_id,
                    body,  # type: ignore[arg-type]
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def retrieve_price(self, price_id: str) -> StripeDict:
        return self._call(lambda: _as_dict(self.client.v1.prices.retrieve(price_id)))

    def preview_invoice(self, params: Mapping[str, Any]) -> StripeDict:
        return self._call(
            lambda: _as_dict(
                self.client.v1.invoices.create_preview(dict(params))  # type: ignore[arg-type]
            )
        )

    def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> StripeDict:
        # DELETE carries no Idempotency-Key at Stripe (it is idempotent by nature); the
        # parameter keeps the protocol uniform.
        del idempotency_key
        return self._call(lambda: _as_dict(self.client.v1.subscriptions.cancel(subscription_id)))

    # --- billing: cards, portal, invoices, refunds (services/commerce) ------------------------

    def list_portal_configurations(self) -> Sequence[StripeDict]:
        return self._call(
            lambda: _all(
                self.client.v1.billing_portal.configurations.list({"active": True, "limit": 100})
            )
        )

    def create_portal_session(
        self,
        customer_id: str,
        return_url: str,
        *,
        configuration: str | None = None,
        idempotency_key: str,
    ) -> str:
        params: dict[str, Any] = {"customer": customer_id, "return_url": return_url}
        if configuration is not None:
            params["configuration"] = configuration
        session = self._call(
            lambda: self.client.v1.billing_portal.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        )
        return str(session.url)

    def create_setup_intent(
        self, customer_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> StripeDict:
        params: dict[str, Any] = {
            "customer": customer_id,
            "usage": "off_session",
            "allowed_payment_method_types": ["card"],
            "metadata": dict(metadata),
        }
        return self._call(
            lambda: _as_dict(
                self.client.v1.setup_intents.create(
                    params,  # type: ignore[arg-type]
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def retrieve_payment_method(self, payment_method_id: str) -> StripeDict:
        return self._call(
            lambda: _as_dict(self.client.v1.payment_methods.retrieve(payment_method_id))
        )

    def list_payment_methods(self, customer_id: str) -> Sequence[StripeDict]:
        return self._call(
            lambda: _all(
                self.client.v1.payment_methods.list(
                    {"customer": customer_id, "type": "card", "limit": 100}
                ),
                cap=100,
            )
        )

    def attach_payment_method(
        self, payment_method_id: str, customer_id: str, *, idempotency_key: str
    ) -> StripeDict:
        return self._call(
            lambda: _as_dict(
                self.client.v1.payment_methods.attach(
                    payment_method_id,
                    {"customer": customer_id},
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def set_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> StripeDict:
        return self._call(
            lambda: _as_dict(
                self.client.v1.customers.update(
                    customer_id,
                    {"invoice_settings": {"default_payment_method": payment_method_id}},
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def list_invoices(
        self, customer_id: str, *, limit: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        params: dict[str, Any] = {
            "customer": customer_id,
            "limit": limit,
            # The discounts' coupons (their names) and codes, for the invoice list.
            "expand": ["data.discounts.source.coupon", "data.discounts.promotion_code"],
        }
        if starting_after:
            params["starting_after"] = starting_after
        page = self._call(
            lambda: self.client.v1.invoices.list(params)  # type: ignore[arg-type]
        )
        return [_as_dict(invoice) for invoice in page.data], bool(page.has_more)

    def invoice_payment_intent(self, invoice_id: str) -> str | None:
        invoice = self._call(
            lambda: _as_dict(self.client.v1.invoices.retrieve(invoice_id, {"expand": ["payments"]}))
        )
        for payment in (invoice.get("payments") or {}).get("data", []):
            detail = payment.get("payment") or {}
            if detail.get("type") == "payment_intent" and payment.get("status") == "paid":
                return str(detail["payment_intent"])
        return None

    def create_refund(self, params: Mapping[str, Any], *, idempotency_key: str) -> StripeDict:
        return self._call(
            lambda: _as_dict(
                self.client.v1.refunds.create(
                    dict(params),  # type: ignore[arg-type]
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def create_meter_event(
        self, *, event_name: str, stripe_customer_id: str, value: int, identifier: str,
        timestamp: int
    ) -> bool:
        return self._call(lambda: send_meter_event(
            self.client, event_name=event_name, stripe_customer_id=stripe_customer_id,
            value=value, identifier=identifier, timestamp=timestamp))
