"""The Transactions page: every customer's payments and refunds with filters, one transaction
with its refunds, and a refund from there that returns to it, audited once."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.services.commerce.transactions import list_transactions
from plangate.store.db import Database
from tests.web.dashboard_harness import add_operator, csrf_of, sign_in

REFUND_KEY = re.compile(r'name="idempotency_key" value="([^"]+-refund-txn_\d+)"')


def _buy(site: TestClient, secret_key: str, catalog: str, customer_id: str) -> str:
    server = {"Authorization": f"Bearer {secret_key}"}
    assert site.put("/v1/catalog", content=catalog, headers={
        **server, "Content-Type": "application/toml"}).status_code == 200
    site.put(f"/v1/customers/user/{customer_id}", json={"name": "<i>Ada</i>"}, headers=server)
    bought = site.post("/v1/checkout-sessions", headers=server, json={
        "customer_type": "user", "customer_id": customer_id, "product_id": "credit_pack"})
    assert bought.status_code in (200, 201), bought.text
    return str(site.get("/v1/transactions", headers=server).json()["data"][0]["id"])


def test_an_operator_filters_opens_and_refunds_a_payment(
    site: TestClient, db: Database, clock: FrozenClock, secret_key: str,
    example_catalog_text: str,
) -> None:
    payment = _buy(site, secret_key, example_catalog_text, "ada")
    add_operator(db, clock, "support@example.com", "support")
    sign_in(site, "support@example.com")

    listed = site.get("/dashboard/transactions", params={"type": "payment", "currency": "usd"})
    assert listed.status_code == 200 and payment in listed.text
    assert 'href="/dashboard/customers/user/ada"' in listed.text
    day = clock.now().date().isoformat()
    assert payment in site.get("/dashboard/transactions",
                               params={"from": day, "to": day}).text
    for empty in ({"type": "refund"}, {"currency": "eur"}, {"to": "2000-01-01"}):
        answer = site.get("/dashboard/transactions", params=empty)
        assert answer.status_code == 200 and payment not in answer.text, empty

    detail = site.get(f"/dashboard/transactions/{payment}").text
    key = REFUND_KEY.search(detail)
    assert key, "no refund form on a refundable payment"
    form = {"csrf_token": csrf_of(detail), "idempotency_key": key.group(1),
            "transaction_id": payment, "currency": "usd", "amount_decimal": "2.50",
            "back": "transaction"}
    for _ in range(2):  # a double submission is one refund
        done = site.post("/dashboard/customers/user/ada/refund", data=form,
                         follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == f"/dashboard/transactions/{payment}?done=refund"

    refunds = list_transactions(db, customer_type=None, customer_id=None, type_="refund",
                                limit=10, cursor=None)["data"]
    assert [(r["amount"], r["currency"]) for r in refunds] == [(250, "usd")]
    after = site.get(f"/dashboard/transactions/{payment}?done=refund").text
    assert "Done: refund." in after and refunds[0]["id"] in after and "$2.50" in after
    refund_page = site.get(f"/dashboard/transactions/{refunds[0]['id']}").text
    assert payment in refund_page and 'name="transaction_id"' not in refund_page
    customer = site.get("/dashboard/customers/user/ada").text
    assert f'href="/dashboard/transactions/{refunds[0]["id"]}"' in customer
    entries, _ = list_entries(db)
    assert [e.action for e in entries] == ["payment.refund"]


def test_bad_filters_and_ids_are_refused_in_the_page(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_operator(db, clock, "viewer@example.com", "viewer")
    sign_in(site, "viewer@example.com")
    for params, text in (({"from": "yesterday"}, "from must be a day"),
                         ({"currency": "<b>"}, "currency must be a 3-letter code"),
                         ({"type": "gift"}, "type must be one of"),
                         ({"cursor": "nope"}, "is not a transaction id")):
        answer = site.get("/dashboard/transactions", params=params)
        assert answer.status_code == 400 and text in answer.text, params
        assert "<b>" not in answer.text
    assert site.get("/dashboard/transactions/txn_999").status_code == 404
    assert site.get("/dashboard/transactions/x%3Cscript%3E").status_code == 400


def test_a_viewer_sees_a_payment_but_no_refund_form(
    site: TestClient, db: Database, clock: FrozenClock, secret_key: str,
    example_catalog_text: str,
) -> None:
    payment = _buy(site, secret_key, example_catalog_text, "ada")
    add_operator(db, clock, "viewer@example.com", "viewer")
    sign_in(site, "viewer@example.com")
    page = site.get(f"/dashboard/transactions/{payment}")
    assert page.status_code == 200 and "$" in page.text
    assert 'name="amount_decimal"' not in page.text
    refused = site.post("/dashboard/customers/user/ada/refund", data={
        "csrf_token": csrf_of(page.text), "transaction_id": payment, "back": "transaction"})
    assert refused.status_code == 403
    assert list_entries(db)[0] == []
    assert site.get("/dashboard/transactions", follow_redirects=False).status_code == 200
    site.cookies.clear()
    gone = site.get("/dashboard/transactions", follow_redirects=False)
    assert gone.status_code == 303 and "/dashboard/login" in gone.headers["location"]
