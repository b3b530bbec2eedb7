"""Writes other than POST honour ``Idempotency-Key`` too: a retry of a revoke or a team
membership change replays the first answer instead of acting (or failing) a second time."""

from __future__ import annotations

from fastapi.testclient import TestClient

C = "/v1/customers/user/ada"


def _grant_pro(api: TestClient, example_catalog_text: str) -> None:
    assert api.put("/v1/catalog", content=example_catalog_text).status_code == 200
    assert api.post(C + "/products", json={"product_id": "pro"}).status_code == 201


def test_a_revoke_retried_with_its_key_replays_the_first_answer(
    api: TestClient, example_catalog_text: str
) -> None:
    _grant_pro(api, example_catalog_text)
    first = api.delete(C + "/products/pro", headers={"Idempotency-Key": "revoke-1"})
    assert first.status_code == 200, first.text
    assert "pro" not in [p["product_id"] for p in first.json()["data"]]

    retry = api.delete(C + "/products/pro", headers={"Idempotency-Key": "revoke-1"})
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert retry.headers.get("idempotent-replayed") == "true"

    # Without the key the second revoke is a new request, and there is nothing left to revoke.
    again = api.delete(C + "/products/pro")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "product_not_owned"


def test_the_query_is_part_of_the_request_a_key_names(
    api: TestClient, example_catalog_text: str
) -> None:
    _grant_pro(api, example_catalog_text)
    headers = {"Idempotency-Key": "revoke-2"}
    assert api.delete(C + "/products/pro", headers=headers).status_code == 200
    other = api.delete(C + "/products/pro?immediately=true", headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_a_refused_revoke_records_nothing_under_its_key(
    api: TestClient, example_catalog_text: str
) -> None:
    assert api.put("/v1/catalog", content=example_catalog_text).status_code == 200
    headers = {"Idempotency-Key": "revoke-3"}
    missing = api.delete(C + "/products/pro", headers=headers)
    assert missing.status_code == 404
    assert api.post(C + "/products", json={"product_id": "pro"}).status_code == 201
    # The key's first attempt changed nothing, so it may be tried again once the product exists.
    assert api.delete(C + "/products/pro", headers=headers).status_code == 200


def test_team_membership_writes_replay_their_first_answer(
    api: TestClient, example_catalog_text: str
) -> None:
    assert api.put("/v1/catalog", content=example_catalog_text).status_code == 200
    member = "/v1/teams/acme/members/ada"
    added = api.put(member, json={"role": "admin"}, headers={"Idempotency-Key": "add-1"})
    assert added.status_code == 201, added.text
    again = api.put(member, json={"role": "admin"}, headers={"Idempotency-Key": "add-1"})
    assert (again.status_code, again.json()) == (201, added.json())
    assert again.headers.get("idempotent-replayed") == "true"

    removed = api.delete(member, headers={"Idempotency-Key": "remove-1"})
    assert removed.status_code == 204 and removed.content == b""
    retried = api.delete(member, headers={"Idempotency-Key": "remove-1"})
    assert retried.status_code == 204 and retried.content == b""
    assert retried.headers.get("idempotent-replayed") == "true"
    assert api.delete(member).status_code == 404  # a new request: nobody left to remove
