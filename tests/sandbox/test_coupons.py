"""Coupons through the SDK: Stripe's shapes, validation, events and redemption limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe
from test_shapes import assert_shape


def test_coupon_create_retrieve_update_list_delete(client: stripe.StripeClient,
                                                   fixtures: dict[str, Any]) -> None:
    pct = client.v1.coupons.create({"percent_off": 25.5, "duration": "repeating",
                                    "duration_in_months": 3, "name": "Launch",
                                    "max_redemptions": 10, "metadata": {"c": "1"}})
    assert pct.percent_off == 25.5 and pct.amount_off is None and pct.valid is True
    assert pct.duration == "repeating" and pct.duration_in_months == 3
    assert len(pct.id) == 8 and pct.times_redeemed == 0
    assert_shape(pct.to_dict(), "coupon", stripe.Coupon, fixtures)
    off = client.v1.coupons.create({"id": "TENOFF", "amount_off": 1000, "currency": "USD",
                                    "duration": "forever"})
    assert off.id == "TENOFF" and off.currency == "usd" and off.percent_off is None
    assert client.v1.coupons.retrieve("TENOFF").amount_off == 1000
    renamed = client.v1.coupons.update(pct.id, {"name": "Spring", "metadata": {"c": ""}})
    assert renamed.name == "Spring" and renamed.metadata.to_dict() == {}
    assert [c.id for c in client.v1.coupons.list().data] == ["TENOFF", pct.id]
    gone = client.v1.coupons.delete("TENOFF")
    assert gone.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.retrieve("TENOFF")
    assert exc.value.http_status == 404
    types = [e.type for e in reversed(client.v1.events.list().data)]
    assert types == ["coupon.created", "coupon.created", "coupon.updated", "coupon.deleted"]


@pytest.mark.parametrize(("params", "param"), [
    ({"duration": "once"}, "percent_off"),
    ({"percent_off": 10, "amount_off": 100, "currency": "usd"}, "amount_off"),
    ({"amount_off": 100}, "currency"),
    ({"percent_off": 0}, "percent_off"),
    ({"percent_off": 100.001}, "percent_off"),
    ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
    ({"percent_off": 10, "duration": "once", "duration_in_months": 2}, "duration_in_months"),
    ({"percent_off": 10, "duration": "weekly"}, "duration"),
    ({"percent_off": 10, "max_redemptions": 0}, "max_redemptions"),
    ({"percent_off": 10, "redeem_by": 1_000_000_000}, "redeem_by"),
    ({"percent_off": 10, "applies_to": {"products": ["prod_x"]}}, "applies_to[products][0]"),
])
def test_invalid_coupons_are_refused_naming_the_parameter(
        client: stripe.StripeClient, params: dict[str, Any], param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.create(params)  # type: ignore[arg-type]
    assert exc.value.http_status == 400 and exc.value.param == param
    assert client.v1.coupons.list().data == []


def test_a_coupon_past_redeem_by_is_no_longer_valid(client: stripe.StripeClient) -> None:
    soon = int(time.time()) + 1
    coupon = client.v1.coupons.create({"percent_off": 5, "redeem_by": soon})
    assert coupon.valid is True
    time.sleep(max(0.0, soon - time.time()) + 0.1)
    assert client.v1.coupons.retrieve(coupon.id).valid is False
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.create({"id": coupon.id, "percent_off": 5})
    assert exc.value.code == "resource_already_exists"
