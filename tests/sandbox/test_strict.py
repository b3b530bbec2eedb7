"""Strict parameters: what Stripe does not know, and what the sandbox does not implement, is
refused with a 400 naming it; nothing is silently ignored. Through the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from plangate.sandbox.resources import ROUTERS
from plangate.sandbox.strict import NOT_IMPLEMENTED


def _refused(call: Any, *args: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        call(*args)
    assert exc.value.http_status == 400
    assert exc.value.error is not None and exc.value.error.type == "invalid_request_error"
    return exc.value


def _price(client: stripe.StripeClient) -> stripe.Price:
    return client.v1.prices.create({"currency": "usd", "unit_amount": 900,
                                    "recurring": {"interval": "month"},
                                    "product_data": {"name": "Team"}})


def test_an_unknown_top_level_parameter_is_refused_as_stripe_does(
        client: stripe.StripeClient) -> None:
    err = _refused(client.v1.customers.create, {"email": "a@example.com", "bogus_param": "1"})
    assert err.code == "parameter_unknown" and err.param == "bogus_param"
    assert err.user_message == "Received unknown parameter: bogus_param"
    assert client.v1.customers.list().data == []  # refused before anything was done


def test_several_unknown_parameters_are_named_together(client: stripe.StripeClient) -> None:
    err = _refused(client.v1.products.create, {"name": "Pro", "colour": "red", "size": "xl"})
    assert err.user_message == "Received unknown parameters: colour, size"
    assert err.param == "colour"


def test_an_unknown_nested_parameter_names_its_full_bracketed_path(
        client: stripe.StripeClient) -> None:
    price = _price(client)
    err = _refused(client.v1.checkout.sessions.create, {
        "mode": "subscription", "success_url": "https://example.com/ok",
        "line_items": [{"price": price.id, "quantity": 1, "foo": "bar"}]})
    assert err.code == "parameter_unknown" and err.param == "line_items[0][foo]"
    assert err.user_message == "Received unknown parameter: line_items[0][foo]"
    err = _refused(client.v1.customers.update, client.v1.customers.create().id,
                   {"invoice_settings": {"default_payment_methd": "pm_card_visa"}})
    assert err.param == "invoice_settings[default_payment_methd]"


def test_a_parameter_stripe_knows_but_the_sandbox_does_not_implement_is_refused(
        client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create()
    price = _price(client)
    err = _refused(client.v1.subscriptions.create, {
        "customer": cus.id, "items": [{"price": price.id}],
        "billing_cycle_anchor": 1_900_000_000})
    assert err.code == NOT_IMPLEMENTED and err.param == "billing_cycle_anchor"
    assert "billing_cycle_anchor" in str(err.user_message)
    assert "sandbox does not implement" in str(err.user_message)
    assert client.v1.subscriptions.list({"customer": cus.id}).data == []


def test_an_unimplemented_nested_parameter_is_refused_with_its_path(
        client: stripe.StripeClient) -> None:
    price = _price(client)
    base = {"mode": "subscription", "success_url": "https://example.com/ok"}
    err = _refused(client.v1.checkout.sessions.create, {
        **base, "line_items": [{"price": price.id, "quantity": 1},
                               {"price": price.id, "adjustable_quantity": {"enabled": True}}]})
    assert err.code == NOT_IMPLEMENTED
    assert err.param == "line_items[1][adjustable_quantity][enabled]"
    err = _refused(client.v1.checkout.sessions.create, {
        **base, "line_items": [{"price": price.id}],
        "automatic_tax": {"enabled": True, "liability": {"type": "self"}}})
    assert err.code == NOT_IMPLEMENTED and err.param == "automatic_tax[liability][type]"
    # Implemented siblings are accepted: the same session without the extra parameter.
    ok = client.v1.checkout.sessions.create({**base, "line_items": [{"price": price.id}]})
    assert ok.status == "open"


def test_query_string_parameters_are_checked_too(client: stripe.StripeClient) -> None:
    client.v1.customers.create({"email": "q@example.com"})
    listed = client.v1.customers.list({"email": "q@example.com", "limit": 1})
    assert len(listed.data) == 1
    err = _refused(client.v1.customers.list, {"emial": "q@example.com"})
    assert err.code == "parameter_unknown" and err.param == "emial"
    err = _refused(client.v1.invoices.list, {"collection_method": "send_invoice"})
    assert err.code == NOT_IMPLEMENTED and err.param == "collection_method"


def test_a_path_that_cannot_be_expanded_is_refused(client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create({"email": "e@example.com", "metadata": {"a": "b"}})
    for path in ("email", "metadata", "nonsense", "invoice_settings.nonsense"):
        err = _refused(client.v1.customers.retrieve, cus.id, {"expand": [path]})
        assert err.param == "expand"
        assert err.user_message == f"This property cannot be expanded ({path.split('.')[-1]})."
    price = _price(client)
    assert client.v1.prices.retrieve(price.id, {"expand": ["product"]}).product.object \
        == "product"  # type: ignore[union-attr]


def test_every_route_declares_parameters_that_stripe_has() -> None:
    routes = [route for router in ROUTERS for route in router.routes]
    assert len(routes) > 80
    for route in routes:
        assert route.operation.shape().fields is not None, route.path
        assert route.operation.undeclared() == [], (route.method, route.path)


def test_allowed_payment_method_types_accept_card_and_refuse_the_rest(
        client: stripe.StripeClient) -> None:
    cus = client.v1.customers.create()
    seti = client.v1.setup_intents.create({"customer": cus.id, "usage": "off_session",
                                           "allowed_payment_method_types": ["card"]})
    assert seti.payment_method_types == ["card"]
    err = _refused(client.v1.setup_intents.create, {
        "customer": cus.id, "allowed_payment_method_types": ["card", "sepa_debit"]})
    assert err.code == NOT_IMPLEMENTED and err.param == "allowed_payment_method_types[1]"
    # The pre-2026 name is one Stripe no longer knows at this API version.
    err = _refused(client.v1.setup_intents.create,
                   {"customer": cus.id, "payment_method_types": ["card"]})
    assert err.code == "parameter_unknown" and err.param == "payment_method_types"
