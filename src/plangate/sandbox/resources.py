"""Every REST resource the sandbox serves, in routing order."""

from __future__ import annotations

from . import (
    account,
    capture,
    catalog,
    charges,
    checkout,
    clocks,
    coupons,
    entitlements,
    events,
    invoices_api,
    lifecycle,  # noqa: F401 - registers the scheduled work
    payments,
    portal,
    portal_configurations,
    previews,
    prices,
    promotion_codes,
    subscriptions_api,
)
from .router import Router

ROUTERS: list[Router] = [catalog.router, prices.router, payments.router, charges.router,
                         events.router, clocks.router, subscriptions_api.router,
                         previews.router, invoices_api.router, checkout.router, portal.router,
                         portal_configurations.router, account.router,
                         capture.router, coupons.router,
                         promotion_codes.router, entitlements.router]
