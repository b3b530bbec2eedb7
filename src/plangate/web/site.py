"""The whole site: the API with the dashboard and the customers' pricing pages beside it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from plangate.api.app import create_app
from plangate.clock import Clock
from plangate.gateways import Gateway
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.web.dashboard import routes as dashboard_routes
from plangate.web.pages import account_routes
from plangate.web.pages import routes as page_routes
from plangate.web.pages.theme import page_policy
from plangate.web.security import LoginThrottle, SecurityHeaders

STATIC = Path(__file__).parent / "static"
# What any page may load, the embeddable pricing table included: no secrets, no dashboard.
PUBLIC_STATIC = STATIC / "public"


def create_site(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    gateway: Gateway | None = None,
    dev_operator: str | None = None,
) -> FastAPI:
    """The API and the dashboard. ``dev_operator`` (``plangate dev``) names the operator a
    browser without a session is signed in as, on this machine only."""
    app = create_app(settings, db=db, clock=clock, gateway=gateway)
    app.state.dashboard_dev_operator = dev_operator
    app.state.login_throttle = LoginThrottle()
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.mount("/static", StaticFiles(directory=PUBLIC_STATIC), name="public-static")
    app.include_router(dashboard_routes.router)
    app.include_router(page_routes.router)
    app.include_router(account_routes.router)
    app.add_middleware(SecurityHeaders, prefix="/dashboard")
    app.add_middleware(
        SecurityHeaders, prefix="/pricing", policy=page_policy(app.state.plangate.settings)
    )
    app.add_middleware(
        SecurityHeaders, prefix="/account",
        policy=page_policy(app.state.plangate.settings, portal=True),
    )
    return app
