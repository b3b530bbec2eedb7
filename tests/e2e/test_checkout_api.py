"""POST /v1/checkout-sessions: refusals, authorization, idempotency, one Stripe customer per
customer under concurrency; GET /v1/checkout-sessions/{id} and the hosted success page."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from plangate.gateways.tls import tls_context
from plangate.sandbox import pay_checkout_session
from plangate.store.models import CheckoutSession, Customer
from tests.e2e.e2e_harness import Stack


def _stripe_sessions(stack: Stack) -> int:
    return len(stack.stripe.v1.checkout.sessions.list({"limit": 100}).data)


def _post(stack: Stack, client: httpx.Client | None = None, **body: Any) -> httpx.Response:
    payload = {"customer_type": "user", "customer_id": "ref", "product_id": "pro", **body}
    return (client or stack.http).post("/v1/checkout-sessions", json=payload)


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"product_id": "priority_support"}, 409, "add_on_requires_base"),
        ({"product_id": "team"}, 400, "customer_type_mismatch"),
        ({"price_id": "weekly"}, 404, "price_not_found"),
        ({"currency": "jpy"}, 400, "currency_not_offered"),
        ({"product_id": "free"}, 400, "product_is_default"),
        ({"product_id": "nope"}, 404, "product_not_found"),
        ({"quantity": 2}, 400, "quantity_invalid"),
        ({"success_url": "https://evil.example/steal"}, 400, "redirect_url_not_allowed"),
        ({"cancel_url": "javascript:alert(1)"}, 400, "redirect_url_not_allowed"),
        ({"customer_type": "robot"}, 400, "parameter_invalid"),
    ],
)
def test_refusals_have_stable_codes_and_create_nothing(
    refusing_stack: Stack, body: dict[str, Any], status: int, code: str
) -> None:
    stack = refusing_stack
    resp = _post(stack, **body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert _stripe_sessions(stack) == 0
    with stack.db.read() as session:
        assert session.scalars(select(CheckoutSession)).all() == []


def test_already_owned_and_blocked_purchases(stack: Stack) -> None:
    stack.buy("owner", "pro")
    resp = _post(stack, customer_id="owner")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "already_owned"
    # Stackable products may be bought again and again.
    assert _post(stack, customer_id="owner", product_id="credit_pack").status_code == 201
    # The add-on is sold once its base is owned.
    assert _post(stack, customer_id="owner", product_id="priority_support").status_code == 201

    stack.settings.block_new_purchases = True
    resp = _post(stack, customer_id="someone")
    assert resp.status_code == 403
    assert resp.json()["error"] == {
        "type": "permission_error",
        "code": "purchases_blocked",
        "message": "this installation does not accept new purchases right now",
        "param": None,
    }


def test_prices_currencies_and_urls(stack: Stack) -> None:
    yearly = stack.checkout(
        "user",
        "opts",
        "pro",
        price_id="yearly",
        currency="EUR",
        success_url=stack.url + "/done?cs={CHECKOUT_SESSION_ID}",
    )
    cs = stack.stripe.v1.checkout.sessions.retrieve(yearly["id"], {"expand": ["line_items"]})
    assert cs.mode == "subscription" and cs.currency == "eur"
    assert cs.success_url == stack.url + "/done?cs={CHECKOUT_SESSION_ID}"
    assert cs.cancel_url == stack.url + "/checkout/canceled"
    assert cs.line_items is not None
    price = cs.line_items.data[0].price
    assert price is not None and price.lookup_key == "plangate:pro:yearly:eur"
    assert price.unit_amount == 18900  # "189.00" EUR, never a float
    pack = stack.checkout("user", "opts", "credit_pack", quantity=5)
    cs = stack.stripe.v1.checkout.sessions.retrieve(pack["id"], {"expand": ["line_items"]})
    assert cs.mode == "payment" and cs.currency == "usd" and cs.amount_total == 5000
    assert cs.line_items is not None and cs.line_items.data[0].quantity == 5


def test_idempotency_key_replays_the_same_session(stack: Stack) -> None:
    headers = {"Idempotency-Key": "checkout-1"}
    body = {"customer_type": "user", "customer_id": "idem", "product_id": "pro"}
    first = stack.http.post("/v1/checkout-sessions", json=body, headers=headers)
    again = stack.http.post("/v1/checkout-sessions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert _stripe_sessions(stack) == 1
    other = stack.http.post(
        "/v1/checkout-sessions", json={**body, "product_id": "credit_pack"}, headers=headers
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"


def test_concurrent_checkouts_make_one_stripe_customer(stack: Stack) -> None:
    barrier = threading.Barrier(8)
    results: list[int] = []

    def buy() -> None:
        with httpx.Client(base_url=stack.url, headers=stack.http.headers, timeout=30,
                          verify=tls_context()) as client:
            barrier.wait()
            results.append(_post(stack, client, customer_id="racer").status_code)

    threads = [threading.Thread(target=buy) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 8
    found = stack.stripe.v1.customers.search({"query": "metadata['customer_id']:'racer'"})
    assert len(found.data) == 1
    with stack.db.read() as session:
        row = session.get(Customer, ("user", "racer"))
        assert row is not None and row.stripe_customer_id == found.data[0].id
    # One open session per product line and customer: the eight share one.
    sessions = stack.stripe.v1.checkout.sessions.list({"limit": 100}).data
    assert len(sessions) == 1 and {s.customer for s in sessions} == {found.data[0].id}


def test_clients_buy_for_themselves_only(stack: Stack) -> None:
    minted = stack.http.post(
        "/v1/customer-sessions", json={"user_id": "cli", "teams": {"t1": "admin", "t2": "member"}}
    )
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert _post(stack, client, customer_id="cli").status_code == 201
        assert _post(stack, client, customer_id="other").json()["error"]["code"] == (
            "customer_forbidden"
        )
        team = {"customer_type": "team", "product_id": "team"}
        assert _post(stack, client, customer_id="t1", **team).status_code == 201
        assert _post(stack, client, customer_id="t2", **team).json()["error"]["code"] == (
            "team_admin_required"
        )
        # Server-only products do not exist for clients.
        resp = _post(stack, client, customer_id="cli", product_id="enterprise")
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "product_not_found"
    assert _post(stack, customer_id="srv", product_id="enterprise").status_code == 201


def test_success_page_polls_until_fulfilled(stack: Stack) -> None:
    session = stack.checkout("user", "page", "credit_pack")
    anonymous = httpx.Client(base_url=stack.url)
    page = anonymous.get("/checkout/success", params={"session_id": session["id"]})
    assert page.status_code == 200
    assert "Finalizing" in page.text and f"data-session-id='{session['id']}'" in page.text
    assert "v1/checkout-sessions/" in page.text  # it polls; it never grants
    assert page.headers["cache-control"] == "no-store"
    # Visiting the success URL before paying grants nothing.
    poll = anonymous.get(f"/v1/checkout-sessions/{session['id']}").json()
    assert poll == {
        "id": session["id"],
        "status": "open",
        "fulfilled": False,
        "product_id": "credit_pack",
        "customer_type": None,  # the session id is a polling handle, not proof of who paid
        "customer_id": None,
    }
    redirect = pay_checkout_session(session["url"])
    assert anonymous.get(redirect).status_code == 200
    stack.settle()
    poll = anonymous.get(f"/v1/checkout-sessions/{session['id']}").json()
    assert poll["status"] == "complete" and poll["fulfilled"] is True
    assert poll["customer_id"] is None
    assert stack.session_status(session["id"])["customer_id"] == "page"
    missing = anonymous.get("/v1/checkout-sessions/cs_test_nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "checkout_session_not_found"
    escaped = anonymous.get("/checkout/success", params={"session_id": "x'><script>alert(1)"})
    assert "<script>alert(1)" not in escaped.text
    anonymous.close()
