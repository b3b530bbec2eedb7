"""The three example apps, each with one route behind ``require(feature="export")``, against
a real plangate server: no customer → 401, without the feature → 403 with the pricing page,
with it → 200, and back to 403 once it is revoked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from plangate_sdk import Client

from .conftest import RunningServer
from .examples import load_django_example, load_example

# (path, headers) -> (status, json body)
Get = Callable[[str, dict[str, str]], tuple[int, Any]]


@pytest.fixture(scope="session")
def fastapi_get(plangate_server: RunningServer) -> Iterator[Get]:
    from fastapi.testclient import TestClient

    module = load_example(
        "fastapi_app/app.py",
        "plangate_example_fastapi",
        api_key=plangate_server.secret_key,
        base_url=plangate_server.base_url,
    )
    with TestClient(module.app) as http:

        def get(path: str, headers: dict[str, str]) -> tuple[int, Any]:
            response = http.get(path, headers=headers)
            return response.status_code, response.json()

        yield get


@pytest.fixture(scope="session")
def flask_get(plangate_server: RunningServer) -> Get:
    pytest.importorskip("flask")
    module = load_example(
        "flask_app/app.py",
        "plangate_example_flask",
        api_key=plangate_server.secret_key,
        base_url=plangate_server.base_url,
    )
    http = module.app.test_client()

    def get(path: str, headers: dict[str, str]) -> tuple[int, Any]:
        response = http.get(path, headers=headers)
        return response.status_code, response.get_json()

    return get


@pytest.fixture(scope="session")
def django_get(plangate_server: RunningServer) -> Get:
    pytest.importorskip("django")
    from django.test import Client as DjangoClient

    load_django_example(api_key=plangate_server.secret_key, base_url=plangate_server.base_url)
    http = DjangoClient()

    def get(path: str, headers: dict[str, str]) -> tuple[int, Any]:
        response = http.get(path, headers=headers)
        return response.status_code, response.json()

    return get


@pytest.fixture(params=["fastapi", "flask", "django"])
def example(request: pytest.FixtureRequest) -> Get:
    get: Get = request.getfixturevalue(f"{request.param}_get")
    return get


def test_the_export_route_follows_the_customers_entitlements(
    example: Get, client: Client, user_id: str
) -> None:
    me = {"X-User-Id": user_id}

    assert example("/", {}) == (200, {"hello": "anyone may see this"})

    status, body = example("/export", {})
    assert status == 401
    assert body["error"]["code"] == "authentication_required"

    status, body = example("/export", me)
    assert status == 403
    assert body["error"] == {
        "type": "permission_error",
        "code": "feature_required",
        "message": "this needs the feature 'export'; upgrade to get it",
        "param": None,
        "pricing_url": "https://example.com/pricing",
        "feature": "export",
    }

    client.grant("user", user_id, "pro")
    assert example("/export", me) == (200, {"report": f"export for user/{user_id}"})

    client.revoke("user", user_id, "pro")
    status, body = example("/export", me)
    assert (status, body["error"]["code"]) == (403, "feature_required")
