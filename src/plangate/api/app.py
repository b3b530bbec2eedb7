"""The plangate ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from plangate.api.context import AppContext
from plangate.api.cors import BrowserAccess
from plangate.api.errors import install_error_handlers
from plangate.api.limits import EdgeGuard
from plangate.api.observe import RequestMetrics
from plangate.api.openapi import install_openapi
from plangate.api.routes import (
    admin,
    catalog,
    conflicts,
    customers,
    entitlements,
    health,
    items,
    metrics,
    products,
    teams,
    tokens,
)
from plangate.api.routes import billing as billing_routes
from plangate.api.routes import checkout as checkout_routes
from plangate.api.routes import emails as email_routes
from plangate.api.routes import identity_webhooks as identity_webhook_routes
from plangate.api.routes import pages as page_routes
from plangate.api.routes import pricing as pricing_routes
from plangate.api.routes import purchases as purchase_routes
from plangate.api.routes import usage as usage_routes
from plangate.api.routes import webhook_endpoints as webhook_endpoint_routes
from plangate.api.routes import webhooks as webhook_routes
from plangate.clock import Clock, SystemClock
from plangate.gateways import Gateway
from plangate.services.access.keys import KeyVerifier
from plangate.services.installation import starting_settings
from plangate.settings import Settings
from plangate.store.db import Database

API_DESCRIPTION = """Billing and entitlements on top of Stripe: sell plans, one-time purchases,
credit packs and add-ons through Stripe Checkout, and ask whether a customer may do something
right now.

Authenticate with `Authorization: Bearer <secret key>` (the app's server) or with an end
user's token (a client, which may act only on itself and its teams). Every error is
`{"error": {"type", "code", "message", "param"}}` with a stable `code`; each operation lists
the codes it can answer. Every response carries `X-Request-Id`; quote it when reporting a
500."""


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    gateway: Gateway | None = None,
) -> FastAPI:
    from plangate import __version__

    if settings is None:
        # Started from the environment (``plangate serve``): an owner's persisted test mode
        # decides the gateway unless PLANGATE_GATEWAY does.
        from_environment = Settings()
        db = db or Database(from_environment.database_url)
        settings = starting_settings(from_environment, db)
        owner_chose_gateway = settings is not from_environment
    else:
        owner_chose_gateway = False
    ctx = AppContext(
        settings=settings,
        db=db or Database(settings.database_url),
        clock=clock or SystemClock(),
        keys=KeyVerifier(settings.secret_keys),
        gateway_override=gateway,
        gateway_from_owner=owner_chose_gateway,
    )
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await ctx.db.close_async()

    app = FastAPI(
        lifespan=lifespan,
        title="plangate",
        version=__version__,
        description=API_DESCRIPTION,
    )
    app.state.plangate = ctx
    install_error_handlers(app)
    # The hot paths first: routes are matched in order.
    app.router.routes.extend(entitlements.DIRECT_ROUTES)
    for module in (entitlements, health, catalog, customers, products, items):
        app.include_router(module.router)
    app.include_router(usage_routes.router)
    app.include_router(teams.router)
    app.include_router(tokens.router)
    app.include_router(checkout_routes.router)
    app.include_router(purchase_routes.router)
    app.include_router(billing_routes.router)
    app.include_router(conflicts.router)
    app.include_router(admin.router)
    app.include_router(webhook_routes.router)
    app.include_router(identity_webhook_routes.router)
    app.include_router(webhook_endpoint_routes.router)
    app.include_router(email_routes.router)
    app.include_router(page_routes.router)
    app.include_router(metrics.router)
    app.include_router(pricing_routes.router)
    if settings.cors_origins:
        app.add_middleware(BrowserAccess, origins=settings.cors_origins)
    app.add_middleware(EdgeGuard, max_body_bytes=settings.max_request_bytes)
    app.add_middleware(RequestMetrics)
    install_openapi(app)
    return app
