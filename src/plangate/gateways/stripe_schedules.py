"""Subscription schedules on the ``stripe`` gateway: a downgrade waits for the period end in
one (services/purchases/stripe_switch.py). Mixed into :class:`StripeGateway`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from plangate.gateways.base import StripeDict

T = TypeVar("T")


class ScheduleCalls:
    client: stripe.StripeClient

    def _call(self, fn: Callable[[], T]) -> T:  # pragma: no cover - StripeGateway's
        raise NotImplementedError

    def create_subscription_schedule(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        return self._call(
            lambda: self.client.v1.subscription_schedules.create(
                dict(params),  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            ).to_dict()
        )

    def update_subscription_schedule(
        self, schedule_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        return self._call(
            lambda: self.client.v1.subscription_schedules.update(
                schedule_id,
                dict(params),  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            ).to_dict()
        )

    def release_subscription_schedule(
        self, schedule_id: str, *, idempotency_key: str
    ) -> StripeDict:
        return self._call(
            lambda: self.client.v1.subscription_schedules.release(
                schedule_id, {}, {"idempotency_key": idempotency_key}
            ).to_dict()
        )
