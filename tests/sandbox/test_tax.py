"""Tax rates, customer tax ids and automatic tax through the SDK: Stripe's shapes, the
documented test computation, events and errors."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from test_shapes import assert_shape

from plangate.sandbox import pay_checkout_session


def _types(client: stripe.StripeClient) -> list[str]:
    return [e.type for e in reversed(client.v1.events.list({"limit": 100}).data)]


def test_tax_rate_create_retrieve_update_list(client: stripe.StripeClient,
                                              fixtures: dict[str, Any]) -> None:
    vat = client.v1.tax_rates.create({"display_name": "VAT", "percentage": 19,
                                      "inclusive": False, "country": "de",
                                      "jurisdiction": "DE", "tax_type": "vat",
                                      "metadata": {"k": "v"}})
    assert vat.id.startswith("txr_") and vat.percentage == 19 and vat.inclusive is False
    assert vat.country == "DE" and vat.active is True and vat.rate_type == "percentage"
    assert_shape(vat.to_dict(), "tax_rate", stripe.TaxRate, fixtures)
    sales = client.v1.tax_rates.create({"display_name": "Sales tax", "percentage": "7.25",
                                        "inclusive": True})
    assert sales.percentage == 7.25 and sales.inclusive is True
    assert client.v1.tax_rates.retrieve(vat.id).jurisdiction == "DE"
    off = client.v1.tax_rates.update(vat.id, {"active": False, "description": "old"})
    assert off.active is False and off.description == "old" and off.percentage == 19
    assert [r.id for r in client.v1.tax_rates.list().data] == [sales.id, vat.id]
    assert [r.id for r in client.v1.tax_rates.list({"active": True}).data] == [sales.id]
    assert [r.id for r in client.v1.tax_rates.list({"inclusive": False}).data] == [vat.id]
    assert _types(client) == ["tax_rate.created", "tax_rate.created", "tax_rate.updated"]


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"display_name": "VAT", "percentage": 101, "inclusive": False}, "percentage",
     "parameter_invalid"),
    ({"display_name": "VAT", "percentage": "1.00001", "inclusive": False}, "percentage",
     "parameter_invalid"),
    ({"display_name": "VAT", "percentage": 19}, "inclusive", "parameter_missing"),
    ({"percentage": 19, "inclusive": False}, "display_name", "parameter_missing"),
    ({"display_name": "VAT", "percentage": 19, "inclusive": False, "country": "XX"},
     "country", "country_unsupported"),
    ({"display_name": "VAT", "percentage": 19, "inclusive": False, "tax_type": "tithe"},
     "tax_type", "parameter_invalid"),
])
def test_invalid_tax_rates_are_refused(client: stripe.StripeClient, params: dict[str, Any],
                                       param: str, code: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.tax_rates.create(params)  # type: ignore[arg-type]
    assert (exc.value.http_status, exc.value.param, exc.value.code) == (400, param, code)
    assert client.v1.tax_rates.list().data == []


def test_a_rate_percentage_cannot_change(client: stripe.StripeClient) -> None:
    rate = client.v1.tax_rates.create({"display_name": "VAT", "percentage": 19,
                                       "inclusive": False})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.tax_rates.update(rate.id, {"percentage": 20})  # type: ignore[typeddict-unknown-key]
    assert exc.value.code == "parameter_unknown"


def test_customer_tax_ids_with_verification(client: stripe.StripeClient,
                                            fixtures: dict[str, Any]) -> None:
    cus = client.v1.customers.create({"name": "Acme GmbH"})
    vat = client.v1.customers.tax_ids.create(cus.id, {"type": "eu_vat", "value": "de 000000000"})
    assert vat.value == "DE000000000" and vat.country == "DE"
    assert vat.verification is not None and vat.verification.status == "pending"
    assert_shape(vat.to_dict(), "tax_id", stripe.TaxId, fixtures)
    again = client.v1.customers.tax_ids.retrieve(cus.id, vat.id)
    assert again.verification is not None and again.verification.status == "verified"
    assert again.verification.verified_name == "Acme GmbH"
    bad = client.v1.customers.tax_ids.create(cus.id, {"type": "gb_vat", "value": "GB111111111"})
    assert client.v1.customers.tax_ids.retrieve(cus.id, bad.id).verification.status \
        == "unverified"  # type: ignore[union-attr]
    ein = client.v1.customers.tax_ids.create(cus.id, {"type": "us_ein", "value": "12-3456789"})
    assert ein.verification.status == "unavailable" and ein.country == "US"  # type: ignore[union-attr]
    assert [t.id for t in client.v1.customers.tax_ids.list(cus.id).data] == [ein.id, bad.id,
                                                                              vat.id]
    expanded = client.v1.customers.retrieve(cus.id, {"expand": ["tax_ids"]})
    assert len(expanded["tax_ids"]["data"]) == 3
    gone = client.v1.customers.tax_ids.delete(cus.id, bad.id)
    assert gone.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.tax_ids.retrieve(cus.id, bad.id)
    assert exc.value.http_status == 404
    assert _types(client) == [
        "customer.created", "customer.tax_id.created", "customer.tax_id.updated",
        "customer.tax_id.created", "customer.tax_id.updated", "customer.tax_id.created",
        "customer.tax_id.deleted"]


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"type": "xx_vat", "value": "1"}, "type", "parameter_invalid"),
    ({"type": "eu_vat", "value": "US123"}, "value", "tax_id_invalid"),
    ({"type": "gb_vat", "value": "GB12"}, "value", "tax_id_invalid"),
    ({"type": "eu_vat"}, "value", "parameter_missing"),
])
def test_invalid_tax_ids_are_refused(client: stripe.StripeClient, params: dict[str, Any],
                                     param: str, code: str) -> None:
    cus = client.v1.customers.create({})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.tax_ids.create(cus.id, params)  # type: ignore[arg-type]
    assert (exc.value.http_status, exc.value.param, exc.value.code) == (400, param, code)
    assert client.v1.customers.tax_ids.list(cus.id).data == []


def _customer(client: stripe.StripeClient, country: str | None, **extra: Any) -> str:
    params: dict[str, Any] = {"payment_method": "pm_card_visa",
                              "invoice_settings": {"default_payment_method": "pm_card_visa"},
                              **extra}
    if country:
        params["address"] = {"country": country, "line1": "Hauptstr. 1", "city": "Berlin",
                             "postal_code": "10115"}
    return client.v1.customers.create(params).id  # type: ignore[arg-type]


def _price(client: stripe.StripeClient, **extra: Any) -> str:
    prod = client.v1.products.create({"name": "Pro"})
    return client.v1.prices.create({"product": prod.id, "currency": "eur", "unit_amount": 1000,
                                    "recurring": {"interval": "month"}, **extra}).id


def test_automatic_tax_adds_german_vat_to_the_first_invoice(
        client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    sub = client.v1.subscriptions.create({
        "customer": _customer(client, "DE"), "items": [{"price": _price(client)}],
        "automatic_tax": {"enabled": True}})
    assert sub.status == "active" and sub.automatic_tax.enabled is True
    inv = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert inv.automatic_tax.enabled is True and inv.automatic_tax.status == "complete"
    assert (inv.subtotal, inv.total_excluding_tax, inv.total, inv.amount_paid) == (
        1000, 1000, 1190, 1190)
    assert inv.total_taxes is not None and len(inv.total_taxes) == 1
    tax = inv.total_taxes[0]
    assert (tax.amount, tax.taxable_amount, tax.tax_behavior, tax.taxability_reason) == (
        190, 1000, "exclusive", "standard_rated")
    assert tax.tax_rate_details is not None
    rate = client.v1.tax_rates.retrieve(tax.tax_rate_details.tax_rate)
    assert (rate.country, rate.percentage) == ("DE", 19)
    line = inv.lines.data[0]
    assert line.taxes is not None and line.taxes[0].amount == 190
    assert_shape(inv.to_dict(), "invoice", stripe.Invoice, fixtures)
    assert_shape(line.to_dict(), "line_item", stripe.InvoiceLineItem, fixtures)
    assert client.v1.tax_rates.list().data == []  # automatic tax's rates are not listed
    where = client.v1.customers.retrieve(inv.customer or "", {"expand": ["tax"]})["tax"]
    assert where["automatic_tax"] == "supported" and where["location"]["country"] == "DE"


@pytest.mark.parametrize(("country", "extra", "reason"), [
    ("US", {}, "not_collecting"),
    ("DE", {"tax_exempt": "reverse"}, "reverse_charge"),
    ("FR", {"tax_exempt": "exempt"}, "customer_exempt"),
])
def test_automatic_tax_charges_nothing_where_it_does_not_apply(
        client: stripe.StripeClient, country: str, extra: dict[str, Any], reason: str) -> None:
    sub = client.v1.subscriptions.create({
        "customer": _customer(client, country, **extra), "items": [{"price": _price(client)}],
        "automatic_tax": {"enabled": True}})
    inv = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert inv.total == 1000 and inv.total_taxes is not None
    assert [(t.amount, t.taxability_reason) for t in inv.total_taxes] == [(0, reason)]


def test_automatic_tax_needs_the_customer_location(client: stripe.StripeClient) -> None:
    cus = _customer(client, None)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create({"customer": cus, "items": [{"price": _price(client)}],
                                        "automatic_tax": {"enabled": True}})
    assert exc.value.code == "customer_tax_location_invalid"
    assert client.v1.subscriptions.list({"customer": cus}).data == []


def test_inclusive_and_exclusive_rates_on_an_invoice(client: stripe.StripeClient) -> None:
    cus = _customer(client, "DE")
    incl = client.v1.tax_rates.create({"display_name": "VAT", "percentage": 20,
                                       "inclusive": True})
    excl = client.v1.tax_rates.create({"display_name": "Sales", "percentage": "10",
                                       "inclusive": False})
    client.v1.invoice_items.create({"customer": cus, "amount": 1200, "currency": "eur",
                                    "tax_rates": [incl.id]})
    client.v1.invoice_items.create({"customer": cus, "amount": 1000, "currency": "eur"})
    inv = client.v1.invoices.create({"customer": cus, "default_tax_rates": [excl.id],
                                     "pending_invoice_items_behavior": "include"})
    # 1200 includes 200 of tax; the other line gets 10% on top.
    assert (inv.subtotal, inv.subtotal_excluding_tax, inv.total_excluding_tax, inv.total) \
        == (2200, 2000, 2000, 2300)
    by_rate = {(t.tax_rate_details.tax_rate if t.tax_rate_details else None): t.amount
               for t in inv.total_taxes or []}
    assert by_rate == {incl.id: 200, excl.id: 100}
    paid = client.v1.invoices.pay(inv.id or "")
    assert paid.status == "paid" and paid.amount_paid == 2300


def test_subscription_item_rates_and_bad_rates(client: stripe.StripeClient) -> None:
    cus = _customer(client, "DE")
    rate = client.v1.tax_rates.create({"display_name": "VAT", "percentage": "7.5",
                                       "inclusive": False})
    sub = client.v1.subscriptions.create({"customer": cus, "items": [
        {"price": _price(client), "tax_rates": [rate.id]}]})
    assert sub["items"].data[0].tax_rates[0].id == rate.id
    inv = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert inv.total == 1075  # 7.5% of 10.00, rounded half up
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create({"customer": cus, "items": [{"price": _price(client)}],
                                        "default_tax_rates": ["txr_nope"]})
    assert exc.value.http_status == 404 and exc.value.param == "default_tax_rates[0]"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create({"customer": cus, "items": [{"price": _price(client)}],
                                        "default_tax_rates": [rate.id],
                                        "automatic_tax": {"enabled": True}})
    assert exc.value.param == "default_tax_rates"


def test_checkout_collects_address_and_tax_id_then_charges_vat(
        client: stripe.StripeClient) -> None:
    price = _price(client)
    cs = client.v1.checkout.sessions.create({
        "mode": "subscription", "line_items": [{"price": price, "quantity": 1}],
        "success_url": "https://app.test/ok", "automatic_tax": {"enabled": True},
        "tax_id_collection": {"enabled": True}, "billing_address_collection": "required"})
    assert cs.automatic_tax.status == "requires_location_inputs" and cs.amount_total == 1000
    assert cs.url is not None
    pay_checkout_session(cs.url, fields={
        "address_country": "DE", "address_line1": "Hauptstr. 1", "address_city": "Berlin",
        "address_postal_code": "10115", "business_name": "Acme GmbH",
        "tax_id_type": "eu_vat", "tax_id_value": "DE000000000"})
    done = client.v1.checkout.sessions.retrieve(cs.id)
    assert done.status == "complete" and done.automatic_tax.status == "complete"
    assert done.amount_total == 1190 and done.total_details is not None
    assert done.total_details.amount_tax == 190
    details = done.customer_details
    assert details is not None and details.address is not None
    assert details.address.country == "DE" and details.business_name == "Acme GmbH"
    assert [(t.type, t.value) for t in details.tax_ids or []] == [("eu_vat", "DE000000000")]
    cus = client.v1.customers.retrieve(str(done.customer))
    assert cus.address is not None and cus.address.country == "DE" and cus.name == "Acme GmbH"
    assert [t.value for t in client.v1.customers.tax_ids.list(cus.id).data] == ["DE000000000"]
    inv = client.v1.invoices.retrieve(str(done.invoice))
    assert (inv.total, inv.amount_paid) == (1190, 1190)
    assert inv.customer_tax_ids is not None and inv.customer_tax_ids[0].value == "DE000000000"


def test_checkout_payment_mode_with_an_inclusive_price(client: stripe.StripeClient) -> None:
    prod = client.v1.products.create({"name": "Book"})
    price = client.v1.prices.create({"product": prod.id, "currency": "eur",
                                     "unit_amount": 1190, "tax_behavior": "inclusive"})
    cus = _customer(client, "DE")
    cs = client.v1.checkout.sessions.create({
        "mode": "payment", "customer": cus, "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://app.test/ok", "automatic_tax": {"enabled": True}})
    assert cs.amount_total == 1190 and cs.total_details is not None
    assert cs.total_details.amount_tax == 190
    assert cs.url is not None
    pay_checkout_session(cs.url)
    done = client.v1.checkout.sessions.retrieve(cs.id, {"expand": ["line_items"]})
    pi = client.v1.payment_intents.retrieve(str(done.payment_intent))
    assert pi.amount == 1190 and pi.status == "succeeded"
    assert done.line_items is not None and done.line_items.data[0].amount_tax == 190


def test_checkout_refuses_automatic_tax_without_a_usable_address(
        client: stripe.StripeClient) -> None:
    cus = _customer(client, None)
    base = {"mode": "subscription", "customer": cus, "success_url": "https://app.test/ok",
            "line_items": [{"price": _price(client), "quantity": 1}]}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create({**base, "automatic_tax": {"enabled": True}})  # type: ignore[typeddict-item]
    assert exc.value.code == "customer_tax_location_invalid"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create({**base, "tax_id_collection": {"enabled": True}})  # type: ignore[typeddict-item]
    assert exc.value.param == "customer_update[name]"
    ok = client.v1.checkout.sessions.create({
        **base, "automatic_tax": {"enabled": True},  # type: ignore[typeddict-item]
        "customer_update": {"address": "auto"}})
    assert ok.url is not None
    page = pay_checkout_session  # the page asks for the address: without it, it refuses
    with pytest.raises(Exception, match="country"):
        page(ok.url)
    page(ok.url, fields={"address_country": "FR"})
    assert client.v1.customers.retrieve(cus).address.country == "FR"  # type: ignore[union-attr]
