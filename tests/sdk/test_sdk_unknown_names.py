"""A check of a name the catalog does not define answers ``allowed: false`` with a reason, and
the SDK warns once per name: a typo in ``has(feature="exprt")`` shows up in the logs instead of
silently denying everyone."""

from __future__ import annotations

import asyncio
import uuid
import warnings

import httpx
import pytest

from plangate_sdk import AsyncClient, Client, UnknownNameWarning
from plangate_sdk.calls import consume
from tests.sdk.conftest import RunningServer


def _check(server: RunningServer, user_id: str, query: str) -> dict[str, object]:
    response = httpx.get(
        f"{server.base_url}/v1/customers/user/{user_id}/check?{query}",
        headers={"Authorization": f"Bearer {server.secret_key}"},
    )
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_the_api_says_why_an_unknown_name_is_refused(
    plangate_server: RunningServer, user_id: str
) -> None:
    assert _check(plangate_server, user_id, "feature=exprt") == {
        "allowed": False,
        "feature": "exprt",
        "reason": "unknown_feature",
    }
    assert _check(plangate_server, user_id, "plan=prro")["reason"] == "unknown_plan"
    assert _check(plangate_server, user_id, "item=credts")["reason"] == "unknown_item"
    # A known feature the customer lacks is a plain refusal: nothing to warn about.
    assert _check(plangate_server, user_id, "feature=export") == {
        "allowed": False,
        "feature": "export",
    }


def test_the_client_warns_once_per_unknown_name(client: Client, user_id: str) -> None:
    name = f"typo_{uuid.uuid4().hex[:8]}"  # warnings are per process: a name of this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert client.has("user", user_id, feature=name) is False
        assert client.check("user", user_id, feature=name).reason == "unknown_feature"
        assert client.has("user", user_id, feature="export") is False
    unknown = [w for w in caught if issubclass(w.category, UnknownNameWarning)]
    assert len(unknown) == 1
    assert name in str(unknown[0].message)


def test_the_async_client_warns_too(plangate_server: RunningServer, user_id: str) -> None:
    name = f"typo_{uuid.uuid4().hex[:8]}"

    async def ask() -> bool:
        async with AsyncClient(plangate_server.secret_key, plangate_server.base_url) as sdk:
            return await sdk.has("user", user_id, feature=name)

    with pytest.warns(UnknownNameWarning, match=name):
        assert asyncio.run(ask()) is False


def test_the_sdk_always_sends_a_quantity_to_consume() -> None:
    # The API requires it ({} is refused), so the SDK's default must be sent, not omitted.
    call = consume("user", "u1", "credits", 1, description=None, idempotency_key=None)
    assert call.json == {"quantity": 1}
