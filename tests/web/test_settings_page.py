"""Settings: an owner blocks new purchases (persisted, audited) and checkout refuses them;
support may look but not change it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.store.db import Database
from tests.web.dashboard_harness import add_operator, csrf_of, sign_in


def _checkout(site: TestClient, key: str) -> int:
    return site.post("/v1/checkout-sessions", headers={"Authorization": f"Bearer {key}"}, json={
        "customer_type": "user", "customer_id": "ada", "product_id": "credit_pack"}).status_code


def test_an_owner_blocks_new_purchases_and_checkout_refuses(
    site: TestClient, db: Database, clock: FrozenClock, secret_key: str,
    example_catalog_text: str,
) -> None:
    site.put("/v1/catalog", content=example_catalog_text, headers={
        "Content-Type": "application/toml", "Authorization": f"Bearer {secret_key}"})
    add_operator(db, clock, "support@example.com", "support")
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "support@example.com")
    html = site.get("/dashboard/settings").text
    assert "Accepted." in html and "Block new purchases" not in html
    assert site.post("/dashboard/settings/purchases", data={
        "csrf_token": csrf_of(html), "blocked": "true"}).status_code == 403
    assert _checkout(site, secret_key) in (200, 201)

    sign_in(site, "owner@example.com")
    html = site.get("/dashboard/settings").text
    assert site.post("/dashboard/settings/purchases", data={
        "csrf_token": csrf_of(html), "blocked": "true"}, follow_redirects=False).status_code == 303
    assert "Blocked" in site.get("/dashboard/settings").text
    refused = site.post("/v1/checkout-sessions", headers={"Authorization": f"Bearer {secret_key}"},
                        json={"customer_type": "user", "customer_id": "bob",
                              "product_id": "credit_pack"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "purchases_blocked"
    html = site.get("/dashboard/settings").text
    site.post("/dashboard/settings/purchases", data={"csrf_token": csrf_of(html),
                                                     "blocked": "false"})
    assert _checkout(site, secret_key) in (200, 201)
    entries, _ = list_entries(db, target_type="settings")
    assert [(e.after, e.actor) for e in entries] == [
        ({"enabled": False}, "operator:owner@example.com"),
        ({"enabled": True}, "operator:owner@example.com"),
    ]
