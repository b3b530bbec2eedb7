"""Access checks in web apps beyond the examples: async sources, plan requirements, tokens
carried by the request, and plangate being unreachable."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from plangate_sdk import AsyncClient, Client, EntitlementVerifier, Gate, OfflineEntitlements
from plangate_sdk import fastapi as plangate_fastapi
from plangate_sdk.gate import CustomerRef, Requirement

from .conftest import RunningServer
from .examples import load_django_example
from .signing import ISSUER, SigningKey, claims, jwks


def header_customer(request: Any) -> CustomerRef | None:
    user_id = request.headers.get("X-User-Id")
    return ("user", user_id) if user_id else None


def fastapi_app(gate: plangate_fastapi.Plangate, *, install: bool = True) -> FastAPI:
    app = FastAPI()
    if install:
        gate.install(app)

    # Dependencies made in a function go in defaults: with postponed annotations, FastAPI
    # could not resolve a local name inside Annotated[...].
    @app.get("/sso")
    def sso(customer: CustomerRef = Depends(gate.require(feature="sso"))) -> str:
        return customer[1]

    @app.get("/pro-reports")
    def pro(customer: CustomerRef = Depends(gate.require(feature="export", plan="pro"))) -> str:
        return customer[1]

    return app


def test_an_async_client_as_the_source(plangate_server: RunningServer, user_id: str) -> None:
    sdk = AsyncClient(plangate_server.secret_key, plangate_server.base_url)
    gate = plangate_fastapi.Plangate(sdk, customer=header_customer, pricing_url="/pricing")
    assert gate.is_async
    with TestClient(fastapi_app(gate)) as http:
        response = http.get("/pro-reports", headers={"X-User-Id": user_id})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "feature_required"
        with Client(plangate_server.secret_key, plangate_server.base_url) as admin:
            admin.grant("user", user_id, "enterprise")  # export, but not the pro plan
        response = http.get("/pro-reports", headers={"X-User-Id": user_id})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "plan_required"
        assert response.json()["error"]["plan"] == "pro"
        assert http.get("/sso", headers={"X-User-Id": user_id}).json() == user_id


def test_without_install_a_refusal_still_has_its_status(client: Client, user_id: str) -> None:
    gate = plangate_fastapi.Plangate(client, customer=header_customer)
    with TestClient(fastapi_app(gate, install=False)) as http:
        response = http.get("/sso", headers={"X-User-Id": user_id})
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "feature_required"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_an_unreachable_plangate_fails_closed_with_503() -> None:
    unreachable = Client("sk_x", closed_port_url(), max_retries=0, timeout=2)
    gate = plangate_fastapi.Plangate(unreachable, customer=header_customer)
    with TestClient(fastapi_app(gate)) as http:
        response = http.get("/sso", headers={"X-User-Id": "u1"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "entitlements_unavailable"


def test_a_token_carried_by_the_request() -> None:
    key = SigningKey()
    verifier = EntitlementVerifier(jwks(key), issuer=ISSUER)

    def token_header(request: Request) -> str | None:
        return request.headers.get("X-Entitlements")

    gate = plangate_fastapi.Plangate.from_request_token(verifier, token=token_header)
    with TestClient(fastapi_app(gate)) as http:
        with_sso = key.sign(claims(("user", "u7"), features=["sso"]))
        without = key.sign(claims(("user", "u8"), features=["export"]))
        forged = SigningKey(kid=key.kid).sign(claims(("user", "u9"), features=["sso"]))

        assert http.get("/sso", headers={"X-Entitlements": with_sso}).json() == "u7"
        refused = http.get("/sso", headers={"X-Entitlements": without})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "feature_required")
        bad = http.get("/sso", headers={"X-Entitlements": forged})
        assert (bad.status_code, bad.json()["error"]["code"]) == (401, "token_signature_invalid")
        assert http.get("/sso").status_code == 401


def test_offline_entitlements_as_the_source(
    plangate_server: RunningServer, client: Client, user_id: str
) -> None:
    source = OfflineEntitlements(client, issuer=plangate_server.base_url)
    gate = plangate_fastapi.Plangate(source, customer=header_customer)
    client.grant("user", user_id, "enterprise")
    with TestClient(fastapi_app(gate)) as http:
        assert http.get("/sso", headers={"X-User-Id": user_id}).json() == user_id


def test_a_misconfigured_offline_source_is_a_503_not_the_users_fault(
    client: Client, user_id: str
) -> None:
    source = OfflineEntitlements(client, issuer="https://another-plangate.example")
    gate = plangate_fastapi.Plangate(source, customer=header_customer)
    with TestClient(fastapi_app(gate)) as http:
        response = http.get("/sso", headers={"X-User-Id": user_id})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "entitlements_unavailable"


def test_a_django_async_view(plangate_server: RunningServer, client: Client, user_id: str) -> None:
    pytest.importorskip("django")
    # Django's settings are per process: the example app's configure them.
    load_django_example(api_key=plangate_server.secret_key, base_url=plangate_server.base_url)
    from django.http import HttpResponse
    from django.test import RequestFactory

    from plangate_sdk.django import Plangate

    gate = Plangate(client, customer=header_customer)

    @gate.require(feature="export")
    async def view(request: Any) -> HttpResponse:
        return HttpResponse(f"{request.plangate_customer[1]}")

    request = RequestFactory().get("/", headers={"X-User-Id": user_id})
    assert asyncio.run(view(request)).status_code == 403
    client.grant("user", user_id, "pro")
    assert asyncio.run(view(request)).content.decode() == user_id


def test_a_flask_view_with_the_gate_directly(client: Client, user_id: str) -> None:
    pytest.importorskip("flask")
    from flask import Flask

    from plangate_sdk.flask import Plangate

    app = Flask(__name__)
    gate = Plangate(client, customer=header_customer, pricing_url="/pricing")

    @app.get("/team")
    @gate.require(plan="pro")
    def team() -> str:
        return "ok"

    http = app.test_client()
    response = http.get("/team", headers={"X-User-Id": user_id})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "plan_required"
    client.grant("user", user_id, "pro")
    assert http.get("/team", headers={"X-User-Id": user_id}).text == "ok"


def test_misconfiguration_is_an_error_at_setup(client: Client) -> None:
    with pytest.raises(ValueError):
        Requirement()
    with pytest.raises(ValueError):
        Gate(client)  # whose entitlements?
    with pytest.raises(ValueError):
        Gate(client, customer=header_customer, verifier=EntitlementVerifier({}, issuer="x"))


def test_the_sdk_imports_no_server_or_framework_code() -> None:
    code = (
        "import sys, plangate_sdk\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('plangate', 'fastapi', 'starlette', 'sqlalchemy', 'alembic', 'stripe', 'flask', 'django',"
        " 'psycopg')"
        "]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
