"""Resume from a customer's page: a subscription cancelled at the period end renews again,
through the service the API's resume calls, audited once however often the form is sent."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.store.db import Database
from tests.web.dashboard_harness import add_operator, csrf_of, sign_in

C = "/v1/customers/user/ada"


def _form(html: str, action: str) -> dict[str, str]:
    key = re.search(rf'name="idempotency_key" value="([^"]+-{action}-[^"]+)"', html)
    assert key, f"no {action} form"
    return {"csrf_token": csrf_of(html), "idempotency_key": key.group(1), "product_id": "pro"}


def _pro(site: TestClient, key: str) -> dict[str, Any]:
    products = site.get(C + "/products", headers={"Authorization": f"Bearer {key}"}).json()
    (pro,) = [p for p in products["data"] if p["product_id"] == "pro"]
    return dict(pro)


def test_support_cancels_then_resumes_a_subscription(
    site: TestClient, db: Database, clock: FrozenClock, secret_key: str,
    example_catalog_text: str,
) -> None:
    api = {"Authorization": f"Bearer {secret_key}"}
    assert site.put("/v1/catalog", content=example_catalog_text, headers={
        **api, "Content-Type": "application/toml"}).status_code == 200
    bought = site.post("/v1/checkout-sessions", headers=api, json={
        "customer_type": "user", "customer_id": "ada", "product_id": "pro"})
    assert bought.status_code in (200, 201), bought.text
    add_operator(db, clock, "support@example.com", "support")
    sign_in(site, "support@example.com")
    page = site.get("/dashboard/customers/user/ada").text
    assert "Resume" not in page
    cancelled = site.post("/dashboard/customers/user/ada/revoke", data=_form(page, "revoke"),
                          follow_redirects=False)
    assert cancelled.status_code == 303
    assert _pro(site, secret_key)["cancel_at_period_end"] is True

    page = site.get("/dashboard/customers/user/ada").text
    assert "(cancels at period end)" in page and "Cancel at period end" not in page
    form = _form(page, "resume")
    for _ in range(2):  # a double submission resumes once
        resumed = site.post("/dashboard/customers/user/ada/resume", data=form,
                            follow_redirects=False)
        assert resumed.status_code == 303
        assert resumed.headers["location"].endswith("?done=resume")
    assert _pro(site, secret_key)["cancel_at_period_end"] is False
    entries, _ = list_entries(db)
    assert [(e.action, e.actor, e.target) for e in entries] == [
        ("subscription.resume", "operator:support@example.com", "user/ada"),
        ("subscription.cancel", "operator:support@example.com", "user/ada"),
    ]
    page = site.get("/dashboard/customers/user/ada").text
    assert "Cancel at period end" in page and "Resume <" not in page

    assert entries[0].before == {"product": "pro", "cancel_at_period_end": True}

    # A product the customer does not hold: refused on the page, nothing audited.
    missing = site.post("/dashboard/customers/user/ada/resume",
                        data={**form, "idempotency_key": "another", "product_id": "team"})
    assert 400 <= missing.status_code < 500 and 'role="alert"' in missing.text
    assert len(list_entries(db)[0]) == 2


def test_a_viewer_cannot_resume(site: TestClient, db: Database, clock: FrozenClock) -> None:
    add_operator(db, clock, "viewer@example.com", "viewer")
    sign_in(site, "viewer@example.com")
    csrf = csrf_of(site.get("/dashboard/customers").text)
    refused = site.post("/dashboard/customers/user/ada/resume",
                        data={"csrf_token": csrf, "product_id": "pro"})
    assert refused.status_code == 403 and list_entries(db)[0] == []
