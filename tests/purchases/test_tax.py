"""Tax end to end on the stripe gateway (the sandbox's automatic tax: 19% for a German
address): billing details on the Stripe customer, tax on the checkout's invoice, on
`GET {c}/invoices` and on the payment's transaction; bad billing details refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from plangate.api import schemas
from plangate.sandbox import pay_checkout_session
from plangate_sdk import Client, billing_calls
from tests.e2e.e2e_harness import Stack

BERLIN = {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def path(customer: str, suffix: str = "") -> str:
    return f"/v1/customers/user/{customer}{suffix}"


def test_automatic_tax_for_a_german_address(stack: Stack) -> None:
    stack.settings.stripe_automatic_tax = True
    stack.settings.stripe_tax_id_collection = True
    put = stack.http.put(
        path("ada", "/billing-details"),
        json={
            "address": BERLIN,
            "name": "Acme GmbH",
            "tax_ids": [{"type": "eu_vat", "value": "DE000000000"}],
        },
    )
    assert put.status_code == 200, put.text
    assert put.json()["address"]["country"] == "DE" and put.json()["name"] == "Acme GmbH"
    stripe_customer = stack.stripe.v1.customers.retrieve(stack.stripe_customer("ada"))
    assert stripe_customer.address is not None and stripe_customer.address.country == "DE"

    stack.buy("ada", "pro")  # 19.99 USD a month, plus 19% VAT

    cs = stack.stripe.v1.checkout.sessions.list({"customer": stripe_customer.id}).data[0]
    assert cs.automatic_tax.enabled is True and cs.tax_id_collection is not None
    assert cs.tax_id_collection.enabled is True
    (invoice,) = stack.http.get(path("ada", "/invoices")).json()["data"]
    assert (invoice["total"], invoice["total_tax"], invoice["total_excluding_tax"]) == (
        2379,
        380,
        1999,
    )
    assert invoice["total_tax_decimal"] == "3.80" and invoice["total_decimal"] == "23.79"
    [tax] = invoice["taxes"]
    assert (tax["amount"], tax["taxable_amount"], tax["inclusive"]) == (380, 1999, False)
    assert tax["taxability_reason"] == "standard_rated" and tax["tax_rate_id"]
    payments = stack.http.get("/v1/transactions", params={"type": "payment"}).json()["data"]
    assert [(p["amount"], p["amount_tax"], p["amount_tax_decimal"]) for p in payments] == [
        (2379, 380, "3.80")
    ]

    with Client(stack.secret_key, stack.url) as sdk:
        details = sdk.billing_details("user", "ada")
    assert [(t.type, t.value, t.verification) for t in details.tax_ids] == [
        ("eu_vat", "DE000000000", "verified")
    ]
    cleared = stack.http.put(path("ada", "/billing-details"), json={"address": BERLIN})
    assert cleared.status_code == 200 and cleared.json()["tax_ids"] == []
    assert stack.stripe.v1.customers.tax_ids.list(stripe_customer.id).data == []


def test_a_one_time_purchase_records_its_tax(stack: Stack) -> None:
    stack.settings.stripe_automatic_tax = True
    session = stack.checkout("user", "bob", "pack", price_id="once")
    pay_checkout_session(session["url"], fields={"address_country": "FR"})
    stack.settle()
    # The page asked for the address; Checkout saved it on the customer.
    details = stack.http.get(path("bob", "/billing-details")).json()
    assert details["address"]["country"] == "FR"
    (payment,) = stack.http.get("/v1/transactions", params={"type": "payment"}).json()["data"]
    assert (payment["amount"], payment["amount_tax"]) == (600, 100)  # 5.00 + 20%


def _refused(stack: Stack, body: dict[str, Any]) -> tuple[int, str, str | None]:
    response = stack.http.put(path("eve", "/billing-details"), json=body)
    error = response.json()["error"]
    return response.status_code, error["code"], error.get("param")


def test_bad_billing_details_change_nothing(stack: Stack) -> None:
    assert _refused(stack, {"address": {**BERLIN, "country": "XX"}}) == (
        400,
        "country_invalid",
        "address.country",
    )
    assert _refused(stack, {"address": BERLIN, "tax_ids": [{"type": "xx_vat", "value": "1"}]}) == (
        400,
        "tax_id_type_invalid",
        "tax_ids.0.type",
    )
    assert _refused(stack, {"address": {**BERLIN, "country": "de"}})[:2] == (
        400,
        "country_invalid",
    )
    status, code, _ = _refused(stack, {"address": BERLIN, "tax_ids": [{"type": "eu_vat"}]})
    assert (status, code) == (400, "parameter_missing")
    assert stack.http.get(path("eve", "/billing-details")).json()["has_payment_customer"] is False
    assert _refused(
        stack,
        {
            "address": BERLIN,
            "tax_ids": [
                {"type": "gb_vat", "value": "GB000000000"},
                {"type": "eu_vat", "value": "US123"},
            ],
        },
    ) == (400, "tax_id_invalid", "tax_ids.1")
    details = stack.http.get(path("eve", "/billing-details")).json()
    assert details["address"] is None and details["tax_ids"] == []


def test_test_mode_keeps_no_billing_details(shop: TestClient) -> None:
    assert shop.get(path("ada", "/billing-details")).json()["has_payment_customer"] is False
    response = shop.put(path("ada", "/billing-details"), json={"address": BERLIN})
    assert response.status_code == 409 and response.json()["error"]["code"] == "test_mode"
    bad = shop.put(path("ada", "/billing-details"), json={"address": {"country": "XX"}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "country_invalid"


def test_the_sdk_sends_what_the_server_takes() -> None:
    call = billing_calls.set_billing_details(
        "user",
        "ada",
        address=BERLIN,
        name="Acme",
        tax_ids=[{"type": "eu_vat", "value": "DE000000000"}],
        idempotency_key=None,
    )
    schemas.BillingDetailsIn.model_validate(call.json)  # extra="forbid": no unknown field
    assert call.method == "PUT" and call.headers and call.headers["Idempotency-Key"]
