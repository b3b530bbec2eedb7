"""The whole site: the API with the dashboard mounted beside it."""

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
from plangate.web.security import LoginThrottle, SecurityHeaders

STATIC = Path(__file__).parent / "static"


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
    app.include_router(dashboard_routes.router)
    app.add_middleware(SecurityHeaders, prefix="/dashboard")
    return app
