"""Calls made with the publishable key as Stripe.js sends them (form-encoded over raw HTTP,
the key as `key=` or a Bearer token): intents retrieved and confirmed with their
`client_secret`, everything else refused as Stripe refuses it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from sandbox_harness import Running

from plangate.sandbox.publishable import VISIBLE

PK = "pk_test_sandbox"


def js(running: Running, method: str, path: str, data: dict[str, str] | None = None,
       bearer: bool = False) -> httpx.Response:
    """One request as Stripe.js makes it: the key in the form (or query), or as a Bearer."""
    fields = {**(data or {}), **({} if bearer else {"key": PK})}
    headers = {"Authorization": f"Bearer {PK}"} if bearer else {}
    url = running.url + path
    if method == "GET":
        return httpx.get(url, params=fields, headers=headers)
    return httpx.post(url, data=fields, headers=headers)


def ok(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def error(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    return resp.json()["error"]  # type: ignore[no-any-return]


def test_a_setup_intent_is_read_and_confirmed_with_its_client_secret(
        running: Running, client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    cus = client.v1.customers.create({"email": "js@example.com"})
    seti = client.v1.setup_intents.create({"customer": cus.id})
    secret = str(seti.client_secret)
    path = f"/v1/setup_intents/{seti.id}"
    seen = ok(js(running, "GET", path, {"client_secret": secret}))
    assert seen["status"] == "requires_payment_method" and seen["client_secret"] == secret
    # A publishable key sees Stripe's subset: no customer, no metadata.
    assert "customer" not in seen and "metadata" not in seen and seen["usage"] == "off_session"
    assert set(seen) == VISIBLE["setup_intent"] & set(fixtures["setup_intent"])

    wrong = error(js(running, "GET", path, {"client_secret": seti.id + "_secret_nope"}), 400)
    assert wrong["code"] == "setup_intent_invalid_parameter"
    assert wrong["param"] == "client_secret" and "does not match" in wrong["message"]
    missing = error(js(running, "GET", path), 400)
    assert missing["param"] == "client_secret"

    done = ok(js(running, "POST", path + "/confirm", {
        "client_secret": secret, "payment_method_data[type]": "card",
        "payment_method_data[card][token]": "tok_visa",
        "payment_method_data[billing_details][name]": "Ada",
        "payment_method_data[guid]": "g", "payment_method_data[muid]": "m",
        "payment_method_data[payment_user_agent]": "stripe.js/1", "expected_payment_method_type":
        "card", "use_stripe_sdk": "true", "_stripe_version": "2026-10-28.endive"}))
    assert done["status"] == "succeeded" and done["payment_method"].startswith("pm_")
    pm = client.v1.payment_methods.retrieve(done["payment_method"])
    assert pm.customer == cus.id and pm.billing_details.name == "Ada"
    assert pm.card is not None and pm.card.last4 == "4242"
    assert client.v1.setup_intents.retrieve(seti.id).status == "succeeded"


def test_a_payment_intent_is_confirmed_with_a_bearer_key_and_a_card_number(
        running: Running, client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    pi = client.v1.payment_intents.create({"amount": 1500, "currency": "usd"})
    secret = str(pi.client_secret)
    path = f"/v1/payment_intents/{pi.id}"
    seen = ok(js(running, "GET", path, {"client_secret": secret}, bearer=True))
    assert seen["amount"] == 1500 and "customer" not in seen and "latest_charge" not in seen
    assert set(seen) == VISIBLE["payment_intent"] & set(fixtures["payment_intent"])
    wrong = error(js(running, "POST", path + "/confirm", {
        "client_secret": "pi_other_secret_x", "payment_method": "pm_card_visa"}, bearer=True),
        400)
    assert wrong["code"] == "payment_intent_invalid_parameter"
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"

    paid = ok(js(running, "POST", path + "/confirm", {
        "client_secret": secret, "payment_method_data[type]": "card",
        "payment_method_data[card][number]": "4242424242424242",
        "payment_method_data[card][exp_month]": "12", "payment_method_data[card][exp_year]": "34",
        "payment_method_data[card][cvc]": "123"}, bearer=True))
    assert paid["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(pi.id).amount_received == 1500


def test_a_declined_card_and_a_test_payment_method_through_the_publishable_key(
        running: Running, client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create({"amount": 900, "currency": "usd"})
    path = f"/v1/payment_intents/{pi.id}/confirm"
    declined = error(js(running, "POST", path, {
        "client_secret": str(pi.client_secret), "payment_method": "pm_card_chargeDeclined"}),
        402)
    assert declined["type"] == "card_error" and declined["code"] == "card_declined"
    paid = ok(js(running, "POST", path, {"client_secret": str(pi.client_secret),
                                         "payment_method": "pm_card_visa"}))
    assert paid["status"] == "succeeded"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/customers"), ("POST", "/v1/customers"), ("GET", "/v1/account"),
    ("POST", "/v1/payment_intents"), ("POST", "/v1/setup_intents/seti_x/cancel"),
])
def test_everything_else_needs_the_secret_key(running: Running, method: str,
                                              path: str) -> None:
    refused = error(js(running, method, path), 401)
    assert refused["type"] == "invalid_request_error"
    assert refused["message"].startswith(
        "This API call cannot be made with a publishable API key.")
    assert running.sandbox.store.all("customer") == []


def test_stripe_js_can_create_a_payment_method(running: Running) -> None:
    pm = ok(js(running, "POST", "/v1/payment_methods", {
        "type": "card", "card[token]": "tok_mastercard", "guid": "g", "time_on_page": "10"}))
    assert pm["card"]["brand"] == "mastercard"
    unknown = error(js(running, "POST", "/v1/payment_methods", {
        "type": "card", "card[token]": "tok_visa", "bogus": "1"}), 400)
    assert unknown["code"] == "parameter_unknown"


def test_a_3ds_card_sends_the_customer_back_to_the_return_url(
        running: Running, client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "3ds@example.com"})
    seti = client.v1.setup_intents.create({"customer": cus.id})
    secret = str(seti.client_secret)
    pending = ok(js(running, "POST", f"/v1/setup_intents/{seti.id}/confirm", {
        "client_secret": secret, "payment_method": "pm_card_authenticationRequiredOnSetup",
        "return_url": "https://app.test/saved?step=2"}))
    assert pending["status"] == "requires_action"
    redirect = pending["next_action"]["redirect_to_url"]
    assert redirect["return_url"] == "https://app.test/saved?step=2"
    back = httpx.post(redirect["url"], data={"three_d_secure": "complete"})
    assert back.status_code == 303
    assert back.headers["location"] == (
        f"https://app.test/saved?step=2&setup_intent={seti.id}"
        f"&setup_intent_client_secret={secret}&redirect_status=succeeded")
    seen = ok(js(running, "GET", f"/v1/setup_intents/{seti.id}", {"client_secret": secret}))
    assert seen["status"] == "succeeded"
