"""Every REST resource the sandbox serves, in routing order."""

from __future__ import annotations

from . import (
    account,
    balance,
    capture,
    catalog,
    charges,
    checkout,
    clocks,
    coupons,
    disputes,
    entitlements,
    events,
    invoices_api,
    lifecycle,  # noqa: F401 - registers the scheduled work
    meters,
    payments,
    payouts,
    portal,
    portal_configurations,
    previews,
    prices,
    promotion_codes,
    schedules_api,
    subscriptions_api,
    tax_ids,
    tax_rates,
)
from .router import Router

ROUTERS: list[Router] = [catalog.router, prices.router, payments.router, charges.router,
                         events.router, clocks.router, subscriptions_api.router,
                         previews.router, invoices_api.router, checkout.router, portal.router,
                         portal_configurations.router, account.router,
                         capture.router, coupons.router,
                         promotion_codes.router, schedules_api.router, meters.router,
                         tax_rates.router, tax_ids.router, disputes.router,
                         balance.router, payouts.router, entitlements.router]
