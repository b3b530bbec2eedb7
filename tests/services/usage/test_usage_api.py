"""Recording usage through the API: once per event id (concurrent twins included), a team's
members' usage counted toward the team, and bad input refused with its code, changing
nothing. Reporting and billing: tests/e2e/test_usage_billing.py."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock

TEAM = "/v1/customers/team/acme/usage"


@pytest.fixture
def shop(api: TestClient, example_catalog_text: str) -> TestClient:
    assert api.put("/v1/catalog", content=example_catalog_text,
                   headers={"content-type": "application/toml"}).status_code == 200
    for user in ("ada", "bob"):
        assert api.put(f"/v1/teams/acme/members/{user}",
                       json={"role": "member"}).status_code in (200, 201)
    return api


def _usage(shop: TestClient, path: str = TEAM) -> dict[str, Any]:
    resp = shop.get(path)
    assert resp.status_code == 200, resp.text
    [meter] = resp.json()["meters"]
    return dict(meter)


def test_usage_is_recorded_once_per_event_id(shop: TestClient) -> None:
    body = {"meter": "api_calls", "quantity": 7, "event_id": "req-1", "user_id": "ada"}
    first = shop.post(TEAM, json=body)
    assert first.status_code == 201, first.text
    assert first.json()["duplicate"] is False and first.json()["id"].startswith("usg_")
    again = shop.post(TEAM, json=body)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    reused = shop.post(TEAM, json={**body, "quantity": 8})
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "usage_event_reused"
    assert shop.post(TEAM, json={**body, "event_id": "req-2", "user_id": "bob",
                                 "quantity": 5}).status_code == 201
    assert shop.post(TEAM, json={"meter": "api_calls", "quantity": 1,
                                 "event_id": "req-3"}).status_code == 201
    meter = _usage(shop)
    assert meter["quantity"] == 13 and meter["members"] == {"ada": 7, "bob": 5}
    assert meter["aggregation"] == "sum"
    # A calendar month while nothing bills the meter.
    assert meter["period_start"].startswith("2026-01-01T00:00:00")
    assert _usage(shop, "/v1/customers/user/ada/usage")["quantity"] == 0


def test_concurrent_twins_of_one_event_count_once(shop: TestClient) -> None:
    body = {"meter": "api_calls", "quantity": 3, "event_id": "twin", "user_id": "ada"}
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        statuses.append(shop.post(TEAM, json=body).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    assert _usage(shop)["quantity"] == 3


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    (TEAM, {"meter": "nope", "quantity": 1, "event_id": "e"}, 404, "meter_not_found"),
    (TEAM, {"meter": "api_calls", "quantity": -1, "event_id": "e"}, 400, None),
    (TEAM, {"meter": "api_calls", "quantity": "5", "event_id": "e"}, 400, None),
    (TEAM, {"meter": "api_calls", "quantity": 1}, 400, None),
    (TEAM, {"meter": "api_calls", "quantity": 1, "event_id": ""}, 400, None),
    (TEAM, {"meter": "api_calls", "quantity": 1, "event_id": "e", "extra": 1}, 400, None),
    (TEAM, {"meter": "api_calls", "quantity": 1, "event_id": "e", "user_id": "zed"}, 409,
     "not_a_team_member"),
    ("/v1/customers/user/ada/usage",
     {"meter": "api_calls", "quantity": 1, "event_id": "e", "user_id": "ada"}, 400,
     "user_id_not_allowed"),
    (TEAM, {"meter": "api_calls", "quantity": 1, "event_id": "e",
            "occurred_at": "2025-06-01T00:00:00Z"}, 400, "usage_time_out_of_range"),
    (TEAM, {"meter": "api_calls", "quantity": 1, "event_id": "e",
            "occurred_at": "2026-01-15T00:00:00"}, 400, None),
])
def test_bad_usage_is_refused_and_changes_nothing(
        shop: TestClient, path: str, body: dict[str, Any], status: int, code: str | None
) -> None:
    resp = shop.post(path, json=body)
    assert resp.status_code == status, resp.text
    if code is not None:
        assert resp.json()["error"]["code"] == code
    assert _usage(shop)["quantity"] == 0


def test_usage_needs_the_server_key_to_record(shop: TestClient, anonymous: TestClient) -> None:
    assert anonymous.post(TEAM, json={"meter": "api_calls", "quantity": 1,
                                      "event_id": "e"}).status_code == 401
    assert _usage(shop)["quantity"] == 0


def test_usage_counts_in_its_period_only(shop: TestClient, clock: FrozenClock) -> None:
    body = {"meter": "api_calls", "quantity": 4, "event_id": "old"}
    assert shop.post(TEAM, json=body).status_code == 201
    clock.set(clock.now() + timedelta(days=40))  # the next calendar month
    assert _usage(shop)["quantity"] == 0
