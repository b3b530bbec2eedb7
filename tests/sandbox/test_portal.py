"""Billing portal configurations and sessions through the official SDK: a session offers and
accepts only the plan changes its configuration lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from sandbox_harness import Running
from test_shapes import assert_shape

from plangate.sandbox import Sandbox
from plangate.sandbox.portal_configurations import allowed_prices

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "portal_configuration.json"


class Shop:
    """Two plans of one line, a team plan, an add-on and a server-only plan, as catalog push
    lays them out at Stripe, and a customer subscribed to Basic."""

    def __init__(self, client: stripe.StripeClient) -> None:
        def monthly(name: str, cents: int, currency: str = "usd") -> tuple[str, str]:
            product = client.v1.products.create({"name": name})
            price = client.v1.prices.create({"product": product.id, "currency": currency,
                                             "unit_amount": cents,
                                             "recurring": {"interval": "month"}})
            return product.id, price.id

        self.basic_product, self.basic = monthly("Basic", 999)
        self.pro_product, self.pro = monthly("Pro", 1999)
        self.pro_yearly = client.v1.prices.create({
            "product": self.pro_product, "currency": "usd", "unit_amount": 19900,
            "recurring": {"interval": "year"}}).id
        self.pro_eur = client.v1.prices.create({
            "product": self.pro_product, "currency": "eur", "unit_amount": 1800,
            "recurring": {"interval": "month"}}).id
        _, self.team = monthly("Team", 9900)
        _, self.add_on = monthly("Priority support", 2900)
        _, self.server_only = monthly("Enterprise", 40000)
        self.configuration = client.v1.billing_portal.configurations.create({
            "features": {
                "subscription_update": {
                    "enabled": True, "default_allowed_updates": ["price"],
                    "proration_behavior": "always_invoice",
                    "products": [
                        {"product": self.basic_product, "prices": [self.basic]},
                        {"product": self.pro_product,
                         "prices": [self.pro, self.pro_yearly, self.pro_eur]}]},
                "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                "payment_method_update": {"enabled": True},
                "invoice_history": {"enabled": True}},
            "metadata": {"plangate_line": "plan"}})
        self.customer = client.v1.customers.create({
            "email": "portal@example.com", "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}})
        self.subscription = client.v1.subscriptions.create({
            "customer": self.customer.id, "items": [{"price": self.basic}]})
        self.item = self.subscription["items"].data[0].id


@pytest.fixture
def shop(client: stripe.StripeClient) -> Shop:
    return Shop(client)


def _price_of(client: stripe.StripeClient, sub_id: str) -> str:
    return str(client.v1.subscriptions.retrieve(sub_id)["items"].data[0].price.id)


def test_configuration_has_stripes_shape_and_round_trips(
        client: stripe.StripeClient, shop: Shop) -> None:
    fixture = json.loads(FIXTURE.read_text())
    created = shop.configuration.to_dict()
    # Stripe's spec marks `subscription_update.products` optional, so its example, a
    # configuration without updates, leaves it out; the sandbox always answers it.
    assert_shape(created, "billing_portal.configuration",
                 stripe.billing_portal.Configuration,
                 {"billing_portal.configuration": fixture})
    for name, feature in fixture["features"].items():
        extra = {"products"} if name == "subscription_update" else set()
        assert set(created["features"][name]) == set(feature) | extra, name
    assert set(created["business_profile"]) == set(fixture["business_profile"])
    assert created["features"]["subscription_update"]["products"][1] == {
        "adjustable_quantity": {"enabled": False, "maximum": None, "minimum": 1},
        "prices": [shop.pro, shop.pro_yearly, shop.pro_eur], "product": shop.pro_product}
    assert created["is_default"] is False and created["active"] is True

    fetched = client.v1.billing_portal.configurations.retrieve(shop.configuration.id)
    assert fetched.to_dict() == created
    updated = client.v1.billing_portal.configurations.update(shop.configuration.id, {
        "features": {"subscription_update": {"enabled": False}}, "default_return_url":
        "https://app.test/account", "metadata": {"plangate_customer_type": "user"}})
    assert updated.features.subscription_update.enabled is False
    assert updated.default_return_url == "https://app.test/account"
    assert updated.to_dict()["metadata"] == {"plangate_line": "plan",
                                             "plangate_customer_type": "user"}
    listed = client.v1.billing_portal.configurations.list({"is_default": False})
    assert [c.id for c in listed.data] == [shop.configuration.id]
    default = client.v1.billing_portal.configurations.list({"is_default": True}).data
    assert len(default) == 1 and default[0].features.subscription_update.enabled is False


@pytest.mark.parametrize("bad, param", [
    ({"products": [{"product": "prod_missing", "prices": ["price_x"]}]},
     "features[subscription_update][products][0][product]"),
    ({"products": [{"product": "{basic_product}", "prices": ["{pro}"]}]},
     "features[subscription_update][products][0][prices][0]"),
    ({"products": [{"product": "{basic_product}", "prices": []}]},
     "features[subscription_update][products][0][prices]"),
    ({"products": []}, "features[subscription_update][products]"),
    ({"default_allowed_updates": ["everything"]},
     "features[subscription_update][default_allowed_updates][0]"),
])
def test_bad_configurations_are_refused(client: stripe.StripeClient, shop: Shop,
                                        bad: dict[str, Any], param: str) -> None:
    update: dict[str, Any] = {
        "enabled": True, "default_allowed_updates": ["price"],
        "products": [{"product": shop.basic_product, "prices": [shop.basic]}]}
    text = json.dumps(bad).replace("{basic_product}", shop.basic_product).replace(
        "{pro}", shop.pro)
    update.update(json.loads(text))
    before = len(client.v1.billing_portal.configurations.list().data)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.configurations.create({
            "features": {"subscription_update": update}})  # type: ignore[typeddict-item]
    assert err.value.param == param
    assert len(client.v1.billing_portal.configurations.list().data) == before


def test_a_session_offers_only_the_listed_prices_in_the_subscriptions_currency(
        client: stripe.StripeClient, sandbox: Sandbox, shop: Shop) -> None:
    session = client.v1.billing_portal.sessions.create({
        "customer": shop.customer.id, "configuration": shop.configuration.id})
    assert session.configuration == shop.configuration.id
    with sandbox.unit():
        cfg = sandbox.get("billing_portal.configuration", shop.configuration.id)
        sub = sandbox.get("subscription", shop.subscription.id)
        offered = {p["id"] for p in allowed_prices(sandbox, cfg, sub)}
    assert offered == {shop.pro, shop.pro_yearly}  # not the EUR price, not Basic itself


def test_a_plan_change_the_configuration_does_not_list_is_refused(
        running: Running, client: stripe.StripeClient, shop: Shop) -> None:
    session = client.v1.billing_portal.sessions.create({
        "customer": shop.customer.id, "configuration": shop.configuration.id})
    assert session.url is not None
    for price in (shop.add_on, shop.team, shop.server_only, shop.pro_eur, "price_nope"):
        answer = httpx.post(session.url, headers={"accept": "application/json"},
                            data={"action": "switch", "subscription": shop.subscription.id,
                                  "price": price})
        assert answer.status_code == 400, price
        error = answer.json()["error"]
        assert error["type"] == "invalid_request_error" and error["param"] == "price"
        assert _price_of(client, shop.subscription.id) == shop.basic
    # A browser gets the page back with the reason, and the same refusal.
    page = httpx.post(session.url, data={"action": "switch", "price": shop.add_on,
                                         "subscription": shop.subscription.id})
    assert page.status_code == 400 and "not one this portal configuration allows" in page.text

    done = httpx.post(session.url, data={"action": "switch", "price": shop.pro,
                                         "subscription": shop.subscription.id})
    assert done.status_code == 200 and "Plan updated." in done.text
    assert _price_of(client, shop.subscription.id) == shop.pro


def test_no_update_is_offered_for_a_product_the_configuration_does_not_list(
        running: Running, client: stripe.StripeClient, shop: Shop) -> None:
    sub = client.v1.subscriptions.create({"customer": shop.customer.id,
                                          "items": [{"price": shop.add_on}]})
    session = client.v1.billing_portal.sessions.create({
        "customer": shop.customer.id, "configuration": shop.configuration.id})
    assert session.url is not None
    answer = httpx.post(session.url, headers={"accept": "application/json"},
                        data={"action": "switch", "subscription": sub.id, "price": shop.pro})
    assert answer.status_code == 400
    assert _price_of(client, sub.id) == shop.add_on


def test_the_default_configuration_offers_no_plan_change(
        client: stripe.StripeClient, shop: Shop) -> None:
    session = client.v1.billing_portal.sessions.create({"customer": shop.customer.id})
    default = client.v1.billing_portal.configurations.retrieve(session.configuration)
    assert default.is_default and default.features.subscription_update.enabled is False
    assert session.url is not None
    answer = httpx.post(session.url, headers={"accept": "application/json"},
                        data={"action": "switch", "subscription": shop.subscription.id,
                              "price": shop.pro})
    assert answer.status_code == 400
    assert _price_of(client, shop.subscription.id) == shop.basic


def test_an_update_confirm_flow_must_name_an_allowed_price(
        client: stripe.StripeClient, shop: Shop) -> None:
    def flow(price: str) -> dict[str, Any]:
        return {"type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": shop.subscription.id, "items": [{"id": shop.item, "price": price}]}}

    for price in (shop.add_on, shop.team, shop.server_only):
        with pytest.raises(stripe.InvalidRequestError) as err:
            client.v1.billing_portal.sessions.create({
                "customer": shop.customer.id, "configuration": shop.configuration.id,
                "flow_data": flow(price)})  # type: ignore[typeddict-item]
        assert err.value.param == "flow_data[subscription_update_confirm][items][0][price]"
    session = client.v1.billing_portal.sessions.create({
        "customer": shop.customer.id, "configuration": shop.configuration.id,
        "flow_data": flow(shop.pro_yearly)})  # type: ignore[typeddict-item]
    assert session.flow is not None and session.flow.type == "subscription_update_confirm"
    assert session.flow.subscription_update_confirm is not None
    assert session.flow.subscription_update_confirm.items[0].price == shop.pro_yearly
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create({
            "customer": shop.customer.id, "flow_data": flow(shop.pro)})  # type: ignore[typeddict-item]


def test_an_inactive_configuration_makes_no_sessions(client: stripe.StripeClient,
                                                     shop: Shop) -> None:
    client.v1.billing_portal.configurations.update(shop.configuration.id, {"active": False})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.sessions.create({
            "customer": shop.customer.id, "configuration": shop.configuration.id})
    assert err.value.param == "configuration"


def test_a_product_listed_twice_or_more_than_ten_products_are_refused(
        client: stripe.StripeClient, shop: Shop) -> None:
    twice = {"product": shop.basic_product, "prices": [shop.basic]}
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.configurations.create({"features": {"subscription_update": {
            "enabled": True, "default_allowed_updates": ["price"], "products": [twice, twice]}}})
    assert err.value.param == "features[subscription_update][products][1][product]"
    once = client.v1.prices.create({"product": shop.basic_product, "currency": "usd",
                                    "unit_amount": 500})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.configurations.create({"features": {"subscription_update": {
            "enabled": True, "default_allowed_updates": ["price"],
            "products": [{"product": shop.basic_product, "prices": [once.id]}]}}})
    assert err.value.param == "features[subscription_update][products][0][prices][0]"
    many = []
    for n in range(11):
        product = client.v1.products.create({"name": f"Plan {n}"})
        recurring = client.v1.prices.create({"product": product.id, "currency": "usd",
                                             "unit_amount": 100 + n,
                                             "recurring": {"interval": "month"}})
        many.append({"product": product.id, "prices": [recurring.id]})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.configurations.create({"features": {"subscription_update": {
            "enabled": True, "default_allowed_updates": ["price"],
            "products": many}}})  # type: ignore[typeddict-item]
    assert err.value.param == "features[subscription_update][products]"


def test_features_turned_off_are_neither_shown_nor_accepted(
        running: Running, client: stripe.StripeClient, shop: Shop) -> None:
    closed = client.v1.billing_portal.configurations.create({"features": {
        "subscription_cancel": {"enabled": False}, "payment_method_update": {"enabled": False},
        "invoice_history": {"enabled": False}}})
    session = client.v1.billing_portal.sessions.create({
        "customer": shop.customer.id, "configuration": closed.id})
    assert session.url is not None
    shown = httpx.get(session.url).text
    for testid in ("cancel", "update-card", "invoices", "price-select"):
        assert f"data-testid='{testid}'" not in shown, testid
    for action in ("cancel", "update_card"):
        refused = httpx.post(session.url, headers={"accept": "application/json"},
                             data={"action": action, "subscription": shop.subscription.id,
                                   "card_number": "4242424242424242"})
        assert refused.status_code == 400, action
    sub = client.v1.subscriptions.retrieve(shop.subscription.id)
    assert sub.cancel_at_period_end is False and sub.status == "active"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create({
            "customer": shop.customer.id, "configuration": closed.id,
            "flow_data": {"type": "subscription_cancel", "subscription_cancel": {
                "subscription": shop.subscription.id}}})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create({
            "customer": shop.customer.id, "configuration": closed.id,
            "flow_data": {"type": "payment_method_update"}})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.billing_portal.sessions.create({
            "customer": shop.customer.id, "configuration": closed.id,
            "flow_data": {"type": "subscription_update", "subscription_update": {
                "subscription": shop.subscription.id}}})
    assert err.value.param == "flow_data[subscription_update][subscription]"

    at_once = client.v1.billing_portal.configurations.create({"features": {
        "subscription_cancel": {"enabled": True, "mode": "immediately"}}})
    session = client.v1.billing_portal.sessions.create({
        "customer": shop.customer.id, "configuration": at_once.id})
    assert session.url is not None
    done = httpx.post(session.url, data={"action": "cancel",
                                         "subscription": shop.subscription.id})
    assert done.status_code == 200
    assert client.v1.subscriptions.retrieve(shop.subscription.id).status == "canceled"


def test_a_confirm_flow_shows_the_proposed_change_and_confirming_makes_it(
        running: Running, client: stripe.StripeClient, shop: Shop) -> None:
    session = client.v1.billing_portal.sessions.create({
        "customer": shop.customer.id, "configuration": shop.configuration.id,
        "flow_data": {"type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": shop.subscription.id,
            "items": [{"id": shop.item, "price": shop.pro_yearly}]}}})
    assert session.url is not None
    shown = httpx.get(session.url).text
    assert "data-testid='confirm-update'" in shown and "Pro · $199.00 / year" in shown
    done = httpx.post(session.url, data={"action": "switch", "price": shop.pro_yearly,
                                         "subscription": shop.subscription.id})
    assert done.status_code == 200 and "data-testid='confirm-update'" not in done.text
    assert _price_of(client, shop.subscription.id) == shop.pro_yearly


def test_a_session_of_a_deleted_customer_answers_404_not_500(
        running: Running, client: stripe.StripeClient, shop: Shop) -> None:
    session = client.v1.billing_portal.sessions.create({"customer": shop.customer.id})
    assert session.url is not None
    client.v1.customers.delete(shop.customer.id)
    assert httpx.get(session.url).status_code == 404
    posted = httpx.post(session.url, data={"action": "update_card", "card_number": "4242"})
    assert posted.status_code == 404


@pytest.mark.parametrize("path, body", [
    ("configurations", "features=x"),
    ("configurations", "features[subscription_update]=x"),
    ("configurations", "features[subscription_update][enabled]=maybe"),
    ("configurations", "features[subscription_update][enabled]=true"
                       "&features[subscription_update][products][0]=x"),
    ("configurations", "features[subscription_update][enabled]=true"
                       "&features[subscription_update][products][0][product]="),
    ("configurations", "features[subscription_cancel][enabled]=true"
                       "&features[subscription_cancel][cancellation_reason]=x"),
    ("configurations", "features[subscription_cancel][enabled]=true"
                       "&features[subscription_cancel][mode]=never"),
    ("configurations", "features[nothing][enabled]=true"),
    ("configurations", "features[invoice_history][enabled]=true&business_profile=x"),
    ("configurations", "features[invoice_history][enabled]=true&metadata=x"),
    ("sessions", "customer={customer}&flow_data=x"),
    ("sessions", "customer={customer}&flow_data[type]=teleport"),
    ("sessions", "customer={customer}&flow_data[type]=subscription_update_confirm"),
    ("sessions", "customer={customer}&flow_data[type]=subscription_update_confirm"
                 "&flow_data[subscription_update_confirm]=x"),
    ("sessions", "customer={customer}&configuration={configuration}"
                 "&flow_data[type]=subscription_update_confirm"
                 "&flow_data[subscription_update_confirm][subscription]={subscription}"
                 "&flow_data[subscription_update_confirm][items][0]=x"),
    ("sessions", "customer={customer}&flow_data[type]=subscription_cancel"
                 "&flow_data[after_completion][type]=redirect"
                 "&flow_data[subscription_cancel][subscription]={subscription}"),
    ("sessions", "customer={customer}&configuration=bpc_missing"),
])
def test_malformed_portal_requests_are_4xx_and_create_nothing(
        running: Running, client: stripe.StripeClient, shop: Shop, path: str,
        body: str) -> None:
    body = body.format(customer=shop.customer.id, subscription=shop.subscription.id,
                       configuration=shop.configuration.id)
    before = len(client.v1.billing_portal.configurations.list().data)
    answer = httpx.post(f"{running.url}/v1/billing_portal/{path}", content=body,
                        headers={"authorization": "Bearer sk_test_x",
                                 "content-type": "application/x-www-form-urlencoded"})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert len(client.v1.billing_portal.configurations.list().data) == before
