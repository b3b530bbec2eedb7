"""Payment gateways: the :class:`Gateway` protocol and the factory that picks one."""

from __future__ import annotations

from plangate.gateways.base import (
    CallBudget,
    CheckoutSessionCreated,
    Gateway,
    GatewayError,
    GatewayNotFound,
)
from plangate.settings import Settings

__all__ = [
    "CallBudget", "CheckoutSessionCreated", "Gateway", "GatewayError", "GatewayNotFound",
    "make_gateway",
]


def make_gateway(
    settings: Settings, budget: CallBudget | None = None, *, interactive: bool = False
) -> Gateway:
    """The gateway ``PLANGATE_GATEWAY`` names (imported lazily: ``test`` needs no SDK client).
    ``budget`` paces its Stripe requests (services/stripe_budget builds the installation's);
    ``interactive`` (an API process, whose callers wait) gives their retries a deadline."""
    if settings.gateway == "stripe":
        from plangate.gateways.stripe_gateway import StripeGateway

        return StripeGateway.from_settings(settings, budget, interactive=interactive)
    from plangate.gateways.test_gateway import TestGateway

    gateway: Gateway = TestGateway(settings)
    return gateway
