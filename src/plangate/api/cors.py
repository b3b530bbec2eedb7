"""Cross-origin access for the routes an app's own pages call from the browser: the public
price list and checkout creation with a client token (the embeddable pricing table). Only
origins in PLANGATE_CORS_ORIGINS, and no cookies: these routes authenticate with a bearer
token or not at all, so a cross-origin caller gains nothing a server could not do."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CORS_PATHS = ("/v1/pricing/", "/v1/checkout-sessions")


class BrowserAccess:
    """CORS on ``CORS_PATHS`` for ``origins``; every other path as if it were not there."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "idempotency-key"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and path.startswith(CORS_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
