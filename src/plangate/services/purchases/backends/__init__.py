"""Purchase backends: Stripe, or test mode. :func:`backend_for` is the one place that asks
which gateway runs; it is called once, when the app (or the CLI) starts."""

from __future__ import annotations

from plangate.services.purchases.backends.base import Deps, PurchaseBackend, Recorder
from plangate.services.purchases.backends.stripe import StripeBackend
from plangate.services.purchases.backends.test import TestBackend

__all__ = ["Deps", "PurchaseBackend", "Recorder", "StripeBackend", "TestBackend", "backend_for"]


def backend_for(deps: Deps) -> PurchaseBackend:
    """The backend of ``deps.gateway``: test mode on the test gateway, Stripe otherwise."""
    if deps.gateway.name == "test":
        return TestBackend(deps)
    return StripeBackend(deps)
