"""A usage hard limit: a meter's `limit_item` is consumed with each usage record in the same
transaction; over the balance the record is refused (409 `usage_limit_reached`) and nothing
is recorded or consumed; a repeated event consumes nothing more; concurrent records never
take the balance below zero."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

TEAM = "/v1/customers/team/acme"
METER = '[meters.api_calls]\nname = "API calls"\naggregation = "sum"\n'


@pytest.fixture
def shop(api: TestClient, example_catalog_text: str) -> TestClient:
    assert METER in example_catalog_text
    catalog = example_catalog_text.replace(METER, METER + 'limit_item = "api_quota"\n') + (
        '\n[items.api_quota]\nname = "API quota"\n')
    resp = api.put("/v1/catalog", content=catalog, headers={"content-type": "application/toml"})
    assert resp.status_code == 200, resp.text
    assert api.put("/v1/teams/acme/members/ada", json={"role": "member"}).status_code in (
        200, 201)
    return api


def _quota(shop: TestClient, delta: int = 0) -> int:
    if delta:
        resp = shop.post(f"{TEAM}/items/api_quota/changes", json={"delta": delta})
        assert resp.status_code == 200, resp.text
    resp = shop.get(f"{TEAM}/items/api_quota")
    assert resp.status_code == 200, resp.text
    return int(resp.json()["quantity"])


def _record(shop: TestClient, event_id: str, quantity: int) -> Any:
    return shop.post(f"{TEAM}/usage", json={"meter": "api_calls", "quantity": quantity,
                                            "event_id": event_id, "user_id": "ada"})


def _used(shop: TestClient) -> int:
    [meter] = shop.get(f"{TEAM}/usage").json()["meters"]
    return int(meter["quantity"])


def test_usage_consumes_its_limit_item_or_is_refused(shop: TestClient) -> None:
    assert _record(shop, "none-yet", 1).json()["error"]["code"] == "usage_limit_reached"
    assert _quota(shop, 10) == 10
    assert _record(shop, "e1", 4).status_code == 201
    assert (_quota(shop), _used(shop)) == (6, 4)

    over = _record(shop, "e2", 7)

    assert over.status_code == 409
    error = over.json()["error"]
    assert (error["code"], error["param"]) == ("usage_limit_reached", "quantity")
    assert (_quota(shop), _used(shop)) == (6, 4)  # nothing recorded, nothing consumed
    again = _record(shop, "e1", 4)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert _quota(shop) == 6  # a repeated event consumes nothing more
    assert _record(shop, "e2", 6).status_code == 201  # the refused id is free to use
    assert _record(shop, "zero", 0).status_code == 201
    assert (_quota(shop), _used(shop)) == (0, 10)


def test_concurrent_usage_never_exceeds_the_limit(shop: TestClient) -> None:
    _quota(shop, 10)
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def send(n: int) -> None:
        barrier.wait()
        for k in range(2):
            statuses.append(_record(shop, f"t{n}-{k}", 1).status_code)
        # A twin of an event already sent: counted once, consumes nothing more.
        statuses.append(_record(shop, f"t{n}-0", 1).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # 16 new events for 10 units: exactly 10 recorded; each twin answers its first's fate.
    assert len(statuses) == 24 and set(statuses) <= {200, 201, 409}
    assert statuses.count(201) == 10
    assert (_quota(shop), _used(shop)) == (0, 10)


@pytest.mark.parametrize(("extra", "code"), [
    ('limit_item = "nope"\n', "unknown_reference"),
    ('limit_item = "credits"\n', None),
])
def test_a_limit_item_is_a_catalog_item(
        api: TestClient, example_catalog_text: str, extra: str, code: str | None) -> None:
    catalog = example_catalog_text.replace(METER, METER + extra)
    resp = api.put("/v1/catalog", content=catalog, headers={"content-type": "application/toml"})
    if code is None:
        assert resp.status_code == 200, resp.text
        return
    assert resp.status_code == 422
    [problem] = resp.json()["error"]["problems"]
    assert (problem["path"], problem["code"]) == ("meters.api_calls.limit_item", code)


def test_a_last_meter_cannot_cap_usage(api: TestClient, example_catalog_text: str) -> None:
    catalog = example_catalog_text.replace(
        METER, METER.replace('"sum"', '"last"') + 'limit_item = "credits"\n')
    resp = api.put("/v1/catalog", content=catalog, headers={"content-type": "application/toml"})
    assert resp.status_code == 422
    assert [p["code"] for p in resp.json()["error"]["problems"]] == ["value_invalid"]
