"""The Entitlements API through the official SDK: features, product features, a customer's
active entitlements and the summary events, key sets checked against Stripe's fixtures."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from test_shapes import assert_shape


def _subscribed(client: stripe.StripeClient, product: str) -> tuple[str, str]:
    price = client.v1.prices.create({"product": product, "currency": "usd",
                                     "unit_amount": 1200, "recurring": {"interval": "month"}})
    cus = client.v1.customers.create({"payment_method": "pm_card_visa", "invoice_settings": {
        "default_payment_method": "pm_card_visa"}})
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    assert sub.status == "active"
    return cus.id, sub.id


def _summaries(client: stripe.StripeClient, customer: str) -> list[list[str]]:
    """The customer's summary events, oldest first, as lists of lookup keys."""
    events = client.v1.events.list({"type": "entitlements.active_entitlement_summary.updated"})
    return [[e["lookup_key"] for e in ev.data.object["entitlements"]["data"]]
            for ev in reversed(events.data) if ev.data.object["customer"] == customer]


def test_features_are_created_read_updated_and_listed(client: stripe.StripeClient,
                                                      fixtures: dict[str, Any]) -> None:
    feat = client.v1.entitlements.features.create({"name": "SSO", "lookup_key": "sso",
                                                   "metadata": {"tier": "pro"}})
    assert feat.id.startswith("feat_") and feat.active is True and feat.metadata.to_dict() == {
        "tier": "pro"}
    assert_shape(feat.to_dict(), "entitlements.feature", stripe.entitlements.Feature, fixtures)
    assert client.v1.entitlements.features.retrieve(feat.id).lookup_key == "sso"
    renamed = client.v1.entitlements.features.update(feat.id, {"name": "Single sign-on"})
    assert renamed.name == "Single sign-on"
    other = client.v1.entitlements.features.create({"name": "Export", "lookup_key": "export"})
    assert [f.id for f in client.v1.entitlements.features.list()] == [other.id, feat.id]
    assert [f.id for f in client.v1.entitlements.features.list({"lookup_key": "sso"})] == [
        feat.id]
    client.v1.entitlements.features.update(other.id, {"active": False})
    assert [f.id for f in client.v1.entitlements.features.list({"archived": True})] == [
        other.id]
    with pytest.raises(stripe.InvalidRequestError) as dup:
        client.v1.entitlements.features.create({"name": "Again", "lookup_key": "sso"})
    assert dup.value.param == "lookup_key"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.entitlements.features.create({"name": "No key"})  # type: ignore[typeddict-item]
    assert missing.value.param == "lookup_key"
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.entitlements.features.retrieve("feat_missing")
    assert gone.value.http_status == 404


def test_product_features_attach_list_and_detach(client: stripe.StripeClient,
                                                 fixtures: dict[str, Any]) -> None:
    prod = client.v1.products.create({"name": "Pro"})
    feat = client.v1.entitlements.features.create({"name": "SSO", "lookup_key": "sso"})
    pf = client.v1.products.features.create(prod.id, {"entitlement_feature": feat.id})
    assert pf.id.startswith("prodft_") and pf.entitlement_feature.id == feat.id
    assert_shape(pf.to_dict(), "product_feature", stripe.ProductFeature, fixtures)
    listed = client.v1.products.features.list(prod.id)
    assert [x.id for x in listed.data] == [pf.id]
    assert listed.url == f"/v1/products/{prod.id}/features"
    client.v1.entitlements.features.update(feat.id, {"name": "Single sign-on"})
    got = client.v1.products.features.retrieve(prod.id, pf.id)
    assert got.entitlement_feature.name == "Single sign-on"
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.products.features.create(prod.id, {"entitlement_feature": feat.id})
    assert twice.value.param == "entitlement_feature"
    deleted = client.v1.products.features.delete(prod.id, pf.id)
    assert deleted.to_dict() == {"id": pf.id, "object": "product_feature", "deleted": True}
    assert client.v1.products.features.list(prod.id).data == []
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.products.features.create("prod_missing", {"entitlement_feature": feat.id})
    assert missing.value.http_status == 404


def test_a_subscription_grants_its_products_features_and_the_summary_follows(
        client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    prod = client.v1.products.create({"name": "Pro"})
    sso = client.v1.entitlements.features.create({"name": "SSO", "lookup_key": "sso"})
    export = client.v1.entitlements.features.create({"name": "Export", "lookup_key": "export"})
    client.v1.products.features.create(prod.id, {"entitlement_feature": sso.id})
    cus, sub = _subscribed(client, prod.id)

    active = client.v1.entitlements.active_entitlements.list({"customer": cus})
    assert [e.lookup_key for e in active.data] == ["sso"]
    ent = active.data[0]
    assert ent.id.startswith("ent_") and ent.feature == sso.id
    assert_shape(ent.to_dict(), "entitlements.active_entitlement",
                 stripe.entitlements.ActiveEntitlement, fixtures)
    again = client.v1.entitlements.active_entitlements.retrieve(ent.id, {"expand": ["feature"]})
    assert isinstance(again.feature, stripe.entitlements.Feature)

    # Attaching a feature to the product reaches existing subscribers; the summary's events
    # come after the subscription's.
    client.v1.products.features.create(prod.id, {"entitlement_feature": export.id})
    assert sorted(e.lookup_key for e in client.v1.entitlements.active_entitlements.list(
        {"customer": cus}).data) == ["export", "sso"]
    client.v1.subscriptions.cancel(sub)
    assert client.v1.entitlements.active_entitlements.list({"customer": cus}).data == []
    assert [sorted(keys) for keys in _summaries(client, cus)] == [
        ["sso"], ["export", "sso"], []]

    events = client.v1.events.list({"type": "entitlements.active_entitlement_summary.updated",
                                    "limit": 1}).data
    obj = events[0].data.object
    assert_shape(obj.to_dict(), "entitlements.active_entitlement_summary",
                 stripe.entitlements.ActiveEntitlementSummary, fixtures)
    previous = events[0].data.previous_attributes
    assert previous is not None and len(previous["entitlements"]["data"]) == 2
    types = [e.type for e in reversed(client.v1.events.list({"limit": 100}).data)]
    assert types.index("customer.subscription.created") < types.index(
        "entitlements.active_entitlement_summary.updated")
    with pytest.raises(stripe.InvalidRequestError) as needs_customer:
        client.v1.entitlements.active_entitlements.list({})  # type: ignore[typeddict-item]
    assert needs_customer.value.param == "customer"


def test_an_archived_feature_stops_granting(client: stripe.StripeClient) -> None:
    prod = client.v1.products.create({"name": "Team"})
    feat = client.v1.entitlements.features.create({"name": "Audit", "lookup_key": "audit"})
    client.v1.products.features.create(prod.id, {"entitlement_feature": feat.id})
    cus, _ = _subscribed(client, prod.id)
    client.v1.entitlements.features.update(feat.id, {"active": False})
    assert client.v1.entitlements.active_entitlements.list({"customer": cus}).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.features.create(prod.id, {"entitlement_feature": feat.id})
    assert _summaries(client, cus) == [["audit"], []]
