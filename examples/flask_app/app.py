"""A Flask app whose ``/export`` needs the ``export`` feature.

Needs the SDK with Flask (``pip install 'plangate-sdk[flask]'``;
in this repository ``make`` installs it).
With plangate running (``plangate dev``) and a secret key (``plangate keys create``):

    PLANGATE_API_KEY=sk_... flask --app examples/flask_app/app.py run --port 8001
    curl -H 'X-User-Id: u1' http://127.0.0.1:8001/export     # 403 feature_required
"""

from __future__ import annotations

import logging
import os

from flask import Flask, Request, g

from plangate_sdk import Client
from plangate_sdk.flask import CustomerRef, Plangate, require

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
    """Who is signed in. A stand-in for your auth (flask-login, session...): a header."""
    user_id = request.headers.get("X-User-Id")
    return ("user", user_id) if user_id else None


def create_app(client: Client) -> Flask:
    app = Flask(__name__)
    Plangate(client, customer=signed_in_customer, pricing_url=PRICING_URL).init_app(app)

    @app.get("/export")
    @require(feature="export")
    def export() -> dict[str, str]:
        customer_type, customer_id = g.plangate_customer
        return {"report": f"export for {customer_type}/{customer_id}"}

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
