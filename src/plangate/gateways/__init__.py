"""Payment gateways: the :class:`Gateway` protocol and the factory that picks one."""

from __future__ import annotations

from plangate.gateways.base import CheckoutSessionCreated, Gateway, GatewayError, GatewayNotFound
from plangate.settings import Settings

__all__ = ["CheckoutSessionCreated", "Gateway", "GatewayError", "GatewayNotFound", "make_gateway"]


def make_gateway(settings: Settings) -> Gateway:
    """The gateway ``PLANGATE_GATEWAY`` names (imported lazily: ``test`` needs no SDK client)."""
    if settings.gateway == "stripe":
        from plangate.gateways.stripe_gateway import StripeGateway

        return StripeGateway.from_settings(settings)
    from plangate.gateways.test_gateway import TestGateway

    gateway: Gateway = TestGateway(settings)
    return gateway
