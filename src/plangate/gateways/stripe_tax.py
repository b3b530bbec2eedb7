"""The Stripe customer's billing details for tax: its address and name, and its tax ids."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

import stripe
import stripe.params

from plangate.gateways.base import StripeDict

T = TypeVar("T")


@cache
def tax_id_types() -> frozenset[str]:
    """The tax id `type`s Stripe accepts (`eu_vat`, `gb_vat`, ...), from the SDK's typed
    parameters, so the list follows the SDK plangate runs with."""
    annotation = stripe.params.CustomerCreateTaxIdParams.__annotations__["type"]
    literal = next(a for a in typing.get_args(annotation) if typing.get_origin(a) is typing.Literal)
    return frozenset(typing.get_args(literal))


class StripeTaxCalls:
    """Mixed into the Stripe gateway: it provides ``client`` and ``_call``."""

    client: stripe.StripeClient
    _call: Callable[..., Any]

    def update_customer(
        self, customer_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        found = self._call(
            lambda: self.client.v1.customers.update(
                customer_id,
                dict(params),  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        )
        result: StripeDict = found.to_dict()
        return result

    def list_tax_ids(self, customer_id: str) -> Sequence[StripeDict]:
        page = self._call(
            lambda: self.client.v1.customers.tax_ids.list(customer_id, {"limit": 100})
        )
        return [t.to_dict() for t in page.data]

    def create_tax_id(
        self, customer_id: str, type_: str, value: str, *, idempotency_key: str
    ) -> StripeDict:
        created = self._call(
            lambda: self.client.v1.customers.tax_ids.create(
                customer_id,
                {"type": type_, "value": value},
                {"idempotency_key": idempotency_key},
            )
        )
        result: StripeDict = created.to_dict()
        return result

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        self._call(lambda: self.client.v1.customers.tax_ids.delete(customer_id, tax_id))
