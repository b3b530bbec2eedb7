"""GET /v1/pricing/{line_id}: public, the line's plans with integer amounts, 404
`line_not_found` for any other id, and CORS for PLANGATE_CORS_ORIGINS only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.settings import Settings
from plangate.store.db import Database

APP_ORIGIN = "https://app.example.com"


@pytest.fixture
def public(db: Database, clock: FrozenClock, api: TestClient,
           example_catalog_text: str) -> Iterator[TestClient]:
    """The app with the example catalog and one CORS origin, called without credentials."""
    applied = api.put("/v1/catalog", content=example_catalog_text,
                      headers={"Content-Type": "application/toml"})
    assert applied.status_code == 200, applied.text
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="test", cors_origins=[APP_ORIGIN])
    with TestClient(create_app(settings, db=db, clock=clock)) as client:
        yield client


def test_a_line_without_credentials(public: TestClient) -> None:
    answer = public.get("/v1/pricing/plan")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer_type"] == "user"
    assert body["intervals"] == ["month", "year"]
    assert body["default_currency"] == "usd"
    assert [p["id"] for p in body["plans"]] == ["free", "pro"]  # not server-only enterprise
    pro = body["plans"][1]
    yearly = next(p for p in pro["prices"] if p["interval"] == "year")
    usd = next(a for a in yearly["amounts"] if a["currency"] == "usd")
    assert usd == {"currency": "usd", "unit_amount": 19900, "amount_decimal": "199.00",
                   "display": "$199.00"}
    assert {"currency": "usd", "unit_amount": 4088, "display": "$40.88",
            "percent": 17} in yearly["savings"]
    assert "public" in answer.headers["cache-control"]
    team = public.get("/v1/pricing/team_plan").json()
    assert [p["id"] for p in team["plans"]] == ["team_free", "team"]
    assert team["customer_type"] == "team"


def test_any_other_line_is_404(public: TestClient) -> None:
    for line in ["nope", "PLAN", "enterprise", "a" * 300, "plan%20", "%E2%9C%93"]:
        answer = public.get(f"/v1/pricing/{line}")
        assert answer.status_code == 404, line
        assert answer.json()["error"]["code"] == "line_not_found"


def test_an_empty_catalog_has_no_lines(db: Database, clock: FrozenClock) -> None:
    settings = Settings(database_url=db.url.render_as_string(hide_password=False))
    with TestClient(create_app(settings, db=db, clock=clock)) as client:
        answer = client.get("/v1/pricing/plan")
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "line_not_found")


def test_cors_for_the_configured_origin_only(public: TestClient) -> None:
    allowed = public.get("/v1/pricing/plan", headers={"Origin": APP_ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-credentials" not in allowed.headers
    other = public.get("/v1/pricing/plan", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    missing = public.get("/v1/pricing/nope", headers={"Origin": APP_ORIGIN})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == APP_ORIGIN
    # A browser's preflight for a checkout with a client token.
    preflight = public.options("/v1/checkout-sessions", headers={
        "Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    refused = public.options("/v1/checkout-sessions", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400
    # Every other route is as if CORS did not exist.
    entitlements = public.get("/v1/customers/user/ada/entitlements",
                              headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in entitlements.headers


def test_no_cors_by_default(api: TestClient) -> None:
    answer = api.get("/v1/pricing/plan", headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "app.example.com",
                                   "https://app.example.com/path"])
def test_cors_origins_must_be_origins(value: str) -> None:
    from plangate.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="PLANGATE_CORS_ORIGINS"):
        load_settings(cors_origins=value)
