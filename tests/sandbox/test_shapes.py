"""Every object the sandbox returns has the key set of Stripe's example object
(fixtures3.json) and values of the types the SDK's typed classes declare."""

from __future__ import annotations

import builtins
import sys
import types
import typing
from decimal import Decimal
from typing import Any

import pytest
import stripe
from sandbox_harness import Running

from plangate.sandbox import pay_checkout_session

T0 = 1768435200


def _check_type(value: Any, hint: Any, path: str) -> None:
    origin = typing.get_origin(hint)
    if hint is Any or isinstance(hint, typing.TypeVar):
        return
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                _check_type(value, arg, path)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{path}: {value!r} matches none of {hint}: {errors}")
    if origin is typing.Literal:
        assert value in typing.get_args(hint), f"{path}: {value!r} not in {hint}"
        return
    if origin in (list, typing.List):  # noqa: UP006
        assert isinstance(value, list), f"{path}: expected a list, got {value!r}"
        return
    if isinstance(hint, (str, typing.ForwardRef)):
        assert isinstance(value, (dict, str)), f"{path}: expected an object, got {value!r}"
        return
    target = origin or hint
    if target is bool:
        assert isinstance(value, bool), f"{path}: expected bool, got {value!r}"
    elif target is int:
        assert isinstance(value, int) and not isinstance(value, bool), \
            f"{path}: expected int, got {value!r}"
    elif target is str:
        assert isinstance(value, str), f"{path}: expected str, got {value!r}"
    elif target is Decimal:
        # On the wire a decimal string; the SDK hands it over as Decimal.
        assert isinstance(value, (str, Decimal)), f"{path}: expected a decimal, got {value!r}"
    elif isinstance(target, type) and issubclass(target, stripe.StripeObject):
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
    elif target is dict:
        assert isinstance(value, dict), f"{path}: expected a dict, got {value!r}"


class _Unresolved(stripe.StripeObject):
    """Stands for a class the SDK imports only for type checkers: some Stripe object."""


class _Namespace(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        if hasattr(builtins, key):
            raise KeyError(key)
        return _Unresolved


def _hints(cls: type) -> dict[str, Any]:
    """The SDK's declared field types, evaluated leniently (its annotations are strings
    that name classes imported under TYPE_CHECKING)."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        module = vars(sys.modules[klass.__module__])
        ns = _Namespace({**module, **vars(typing), **vars(klass)})
        for key, ann in vars(klass).get("__annotations__", {}).items():
            try:
                out[key] = eval(ann, {}, ns) if isinstance(ann, str) else ann  # noqa: S307
            except Exception:  # noqa: BLE001 - an annotation we cannot read is not checked
                out.pop(key, None)
    return out


def assert_shape(obj: dict[str, Any], resource: str, cls: type,
                 fixtures: dict[str, Any], extra: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    expected = set(fixtures[resource]) | set(extra)
    assert set(obj) == expected, (
        f"{resource}: missing {sorted(expected - set(obj))}, extra {sorted(set(obj) - expected)}")
    hints = _hints(cls)
    for key, value in obj.items():
        if key in hints:
            _check_type(value, hints[key], f"{resource}.{key}")


@pytest.fixture
def objects(running: Running, client: stripe.StripeClient) -> dict[str, dict[str, Any]]:
    """One of each resource, made the way plangate makes them, read back raw."""
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    prod = client.v1.products.create({"name": "Pro"})
    price = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                     "unit_amount": 1000,
                                     "recurring": {"interval": "month"}})
    one_time = client.v1.prices.create({"product": prod.id, "currency": "usd",
                                        "unit_amount": 500})
    cus = client.v1.customers.create({"email": "shape@example.com", "test_clock": clock.id,
                                      "payment_method": "pm_card_visa",
                                      "invoice_settings": {
                                          "default_payment_method": "pm_card_visa"}})
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    cs = client.v1.checkout.sessions.create({
        "mode": "payment", "line_items": [{"price": one_time.id, "quantity": 1}],
        "success_url": "https://app.test/ok"})
    assert cs.url is not None
    pay_checkout_session(cs.url)
    pi = client.v1.payment_intents.create({"amount": 700, "currency": "usd", "customer": cus.id,
                                          "payment_method": "pm_card_visa", "confirm": True})
    refund = client.v1.refunds.create({"payment_intent": pi.id, "amount": 100})
    seti = client.v1.setup_intents.create({"customer": cus.id})
    portal = client.v1.billing_portal.sessions.create({"customer": cus.id,
                                                       "return_url": "https://app.test"})
    we = client.v1.webhook_endpoints.create({"url": "http://127.0.0.1:9/x",
                                             "enabled_events": ["invoice.paid"]})
    client.v1.subscriptions.update(sub.id, {"items": [{"id": sub["items"].data[0].id,
                                                       "quantity": 2}]})
    invoice = client.v1.invoices.retrieve(str(sub.latest_invoice))
    raw = {
        "customer": cus, "product": prod, "price": price, "subscription": sub,
        "subscription_item": client.v1.subscription_items.retrieve(sub["items"].data[0].id),
        "invoice": invoice, "line_item": invoice.lines.data[0],
        "invoiceitem": client.v1.invoice_items.list({"customer": cus.id}).data[0],
        "checkout.session": client.v1.checkout.sessions.retrieve(cs.id),
        "payment_intent": pi, "charge": client.v1.charges.retrieve(str(pi.latest_charge),
                                                                 {"expand": ["refunds"]}),
        "refund": refund, "setup_intent": seti,
        "payment_method": client.v1.payment_methods.retrieve(
            str(cus.invoice_settings.default_payment_method)),  # type: ignore[union-attr]
        "billing_portal.session": portal,
        "event": client.v1.events.list({"limit": 1}).data[0],
        "webhook_endpoint": client.v1.webhook_endpoints.retrieve(we.id),
        "test_helpers.test_clock": client.v1.test_helpers.test_clocks.retrieve(clock.id),
    }
    return {k: v.to_dict() for k, v in raw.items()}


CLASSES: dict[str, type] = {
    "customer": stripe.Customer, "product": stripe.Product, "price": stripe.Price,
    "subscription": stripe.Subscription, "subscription_item": stripe.SubscriptionItem,
    "invoice": stripe.Invoice, "line_item": stripe.InvoiceLineItem,
    "invoiceitem": stripe.InvoiceItem, "checkout.session": stripe.checkout.Session,
    "payment_intent": stripe.PaymentIntent, "charge": stripe.Charge, "refund": stripe.Refund,
    "setup_intent": stripe.SetupIntent, "payment_method": stripe.PaymentMethod,
    "billing_portal.session": stripe.billing_portal.Session, "event": stripe.Event,
    "webhook_endpoint": stripe.WebhookEndpoint,
    "test_helpers.test_clock": stripe.test_helpers.TestClock,
}


# Keys Stripe sends that its example objects leave out (optional in its OpenAPI description).
OPTIONAL_KEYS: dict[str, set[str]] = {"checkout.session": {"tax_id_collection"}}


@pytest.mark.parametrize("resource", sorted(CLASSES))
def test_shape_matches_stripe(resource: str, objects: dict[str, dict[str, Any]],
                              fixtures: dict[str, Any]) -> None:
    assert_shape(objects[resource], resource, CLASSES[resource], fixtures,
                 OPTIONAL_KEYS.get(resource, set()))


def test_nested_shapes(objects: dict[str, dict[str, Any]], fixtures: dict[str, Any]) -> None:
    sub_item = objects["subscription"]["items"]["data"][0]
    assert_shape(sub_item, "subscription_item", stripe.SubscriptionItem, fixtures)
    assert_shape(sub_item["price"], "price", stripe.Price, fixtures)
    refund_in_charge = objects["charge"]["refunds"]["data"][0]
    assert_shape(refund_in_charge, "refund", stripe.Refund, fixtures)
    assert "current_period_end" not in objects["subscription"]
    parent = objects["invoice"]["parent"]
    assert parent["type"] == "subscription_details"
    assert parent["subscription_details"]["subscription"] == objects["subscription"]["id"]


def test_a_charge_lists_its_refunds_only_when_expanded(objects: dict[str, dict[str, Any]],
                                                        client: stripe.StripeClient) -> None:
    charge_id = objects["charge"]["id"]
    assert "refunds" not in client.v1.charges.retrieve(charge_id).to_dict()
    for _ in range(10):
        client.v1.refunds.create({"charge": charge_id, "amount": 10})
    refunds = client.v1.charges.retrieve(charge_id, {"expand": ["refunds"]}).refunds
    assert refunds is not None
    assert len(refunds.data) == 10 and refunds.has_more  # the first page of 11
    assert refunds.data[-1].id != objects["refund"]["id"]  # newest first
    assert len(client.v1.refunds.list({"charge": charge_id, "limit": 100}).data) == 11


def test_webhook_endpoint_secret_only_on_create(client: stripe.StripeClient,
                                                fixtures: dict[str, Any]) -> None:
    we = client.v1.webhook_endpoints.create({"url": "http://127.0.0.1:9/x",
                                             "enabled_events": ["*"]}).to_dict()
    assert_shape(we, "webhook_endpoint", stripe.WebhookEndpoint, fixtures, {"secret"})
