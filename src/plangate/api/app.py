"""The plangate ASGI app."""

from __future__ import annotations

from fastapi import FastAPI

from plangate.api.context import AppContext
from plangate.api.errors import install_error_handlers
from plangate.api.routes import (
    catalog,
    customers,
    entitlements,
    health,
    items,
    products,
    teams,
    tokens,
)
from plangate.clock import Clock, SystemClock
from plangate.services.keys import KeyVerifier
from plangate.settings import Settings
from plangate.store.db import Database


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, clock: Clock | None = None
) -> FastAPI:
    from plangate import __version__

    settings = settings or Settings()
    ctx = AppContext(
        settings=settings,
        db=db or Database(settings.database_url),
        clock=clock or SystemClock(),
        keys=KeyVerifier(settings.secret_keys),
    )
    app = FastAPI(
        title="plangate",
        version=__version__,
        description="Billing and entitlements on top of Stripe. Errors are "
        '`{"error": {"type", "code", "message", "param"}}`.',
    )
    app.state.plangate = ctx
    install_error_handlers(app)
    for module in (health, catalog, customers, entitlements, products, items):
        app.include_router(module.router)
    app.include_router(teams.router)
    app.include_router(tokens.router)
    return app
