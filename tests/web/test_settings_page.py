"""Settings: an owner blocks new purchases (persisted, audited) and checkout refuses them;
support may look but not change it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.services.installation import persisted_gateway
from plangate.store.db import Database
from plangate.web import create_site
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


def test_an_owner_chooses_test_mode_for_the_next_start(
    site: TestClient, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_operator(db, clock, "support@example.com", "support")
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "support@example.com")
    html = site.get("/dashboard/settings").text
    assert 'class="mode test"' in html and "test mode from the next start" not in html
    assert "/dashboard/settings/test-mode" not in html
    assert site.post("/dashboard/settings/test-mode", data={
        "csrf_token": csrf_of(html), "enabled": "false"}).status_code == 403

    sign_in(site, "owner@example.com")
    html = site.get("/dashboard/settings").text
    assert "(it is, for this process)" in html and "(none yet)" in html
    assert site.post("/dashboard/settings/test-mode", data={"enabled": "false"}).status_code == 403
    turned = site.post("/dashboard/settings/test-mode", data={
        "csrf_token": csrf_of(html), "enabled": "false"}, follow_redirects=False)
    assert turned.status_code == 303
    assert persisted_gateway(db) == "stripe"
    (entry,), _ = list_entries(db)
    assert (entry.action, entry.actor, entry.before, entry.after) == (
        "settings.test_mode", "operator:owner@example.com", {"enabled": None},
        {"enabled": False})
    html = site.get("/dashboard/settings").text
    assert "(test mode off)" in html and "Turn test mode on from the next start" in html
    # This process keeps its gateway: it was chosen when it started.
    assert 'class="mode test"' in html

    # A start from the environment without PLANGATE_GATEWAY takes the owner's choice...
    monkeypatch.setenv("PLANGATE_DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.delenv("PLANGATE_GATEWAY", raising=False)
    with TestClient(create_site(db=db, clock=clock)) as started:
        assert started.app.state.plangate.settings.gateway == "stripe"  # type: ignore[attr-defined]
        sign_in(started, "owner@example.com")
        html = started.get("/dashboard/settings").text
        assert 'class="mode"' in html and "Off</strong>" in html
        started.post("/dashboard/settings/test-mode", data={
            "csrf_token": csrf_of(html), "enabled": "true"})
        assert "· test mode from the next start" in started.get("/dashboard").text
    assert persisted_gateway(db) == "test"
    # ...and PLANGATE_GATEWAY, when set, wins over it.
    monkeypatch.setenv("PLANGATE_GATEWAY", "stripe")
    pinned = create_site(db=db, clock=clock)
    assert pinned.state.plangate.settings.gateway == "stripe"
    assert [e.action for e in list_entries(db)[0]] == ["settings.test_mode"] * 2
