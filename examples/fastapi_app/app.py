"""A FastAPI app whose ``/export`` needs the ``export`` feature.

Needs the SDK with FastAPI (``pip install 'plangate-sdk[fastapi]'``;
in this repository ``make`` installs it).
With plangate running (``plangate dev``) and a secret key (``plangate keys create``):

    PLANGATE_API_KEY=sk_... uvicorn examples.fastapi_app.app:app --port 8001
    curl -H 'X-User-Id: u1' http://127.0.0.1:8001/export     # 403 feature_required
    # grant Pro to u1 (plangate or the SDK: client.grant("user", "u1", "pro")), then again: 200
"""

from __future__ import annotations

import logging
import os
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from plangate_sdk import Client
from plangate_sdk.fastapi import CustomerRef, Plangate, require

PRICING_URL = "https://example.com/pricing"


def api_key_from_env() -> str:
    """The secret key. Without one every call to plangate fails with 401, so say why now."""
    key = os.environ.get("PLANGATE_API_KEY", "")
    if not key:
        logging.getLogger("plangate.example").warning(
            "PLANGATE_API_KEY is not set: every call to plangate will fail with 401. Set it to "
            "the secret key `plangate dev` prints, or make one with `plangate keys create`."
        )
        return "sk_unset"
    return key


def signed_in_customer(request: Request) -> CustomerRef | None:
    """Who is signed in. A stand-in for your auth (session cookie, JWT...): a header."""
    user_id = request.headers.get("X-User-Id")
    return ("user", user_id) if user_id else None


def create_app(client: Client) -> FastAPI:
    app = FastAPI(title="plangate FastAPI example")
    Plangate(client, customer=signed_in_customer, pricing_url=PRICING_URL).install(app)

    @app.get("/export")
    def export(
        customer: Annotated[CustomerRef, Depends(require(feature="export"))],
    ) -> dict[str, str]:
        return {"report": f"export for {customer[0]}/{customer[1]}"}

    @app.get("/")
    def home() -> dict[str, str]:
        return {"hello": "anyone may see this"}

    return app


app = create_app(
    Client(
        api_key=api_key_from_env(),
        base_url=os.environ.get("PLANGATE_URL", "http://127.0.0.1:8000"),
    )
)
