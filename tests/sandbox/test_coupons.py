"""Coupons and promotion codes through the SDK: Stripe's shapes, validation, events."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from sandbox_harness import MovableTime, start
from test_shapes import assert_shape

from plangate.sandbox import SandboxConfig


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


def test_a_coupon_past_redeem_by_is_no_longer_valid() -> None:
    # The sandbox's clock moved by hand: no wait, and no race with a second boundary.
    clock = MovableTime(1768435200)
    running = start(SandboxConfig(tick_seconds=3600, time_source=clock))
    try:
        client = running.client()
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.coupons.create({"percent_off": 5, "redeem_by": int(clock.now)})
        coupon = client.v1.coupons.create({"percent_off": 5, "redeem_by": int(clock.now) + 60})
        assert coupon.valid is True
        clock.now += 59
        assert client.v1.coupons.retrieve(coupon.id).valid is True
        clock.now += 1
        assert client.v1.coupons.retrieve(coupon.id).valid is False
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.coupons.create({"id": coupon.id, "percent_off": 5})
        assert exc.value.code == "resource_already_exists"
    finally:
        running.stop()


def test_promotion_code_create_retrieve_update_list(client: stripe.StripeClient,
                                                    fixtures: dict[str, Any]) -> None:
    coupon = client.v1.coupons.create({"percent_off": 20, "duration": "once"})
    promo = client.v1.promotion_codes.create({
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "FALL20",
        "max_redemptions": 5, "restrictions": {"minimum_amount": 1000,
                                               "minimum_amount_currency": "USD"}})
    assert promo.id.startswith("promo_") and promo.code == "FALL20" and promo.active is True
    assert promo.promotion.coupon == coupon.id and promo.times_redeemed == 0
    assert promo.restrictions.minimum_amount_currency == "usd"
    assert_shape(promo.to_dict(), "promotion_code", stripe.PromotionCode, fixtures)
    generated = client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": coupon.id}})
    assert len(generated.code) == 8
    with pytest.raises(stripe.InvalidRequestError) as taken:
        client.v1.promotion_codes.create(
            {"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "fall20"})
    assert taken.value.param == "code"
    off = client.v1.promotion_codes.update(promo.id, {"active": False})
    assert off.active is False
    assert client.v1.promotion_codes.retrieve(promo.id).active is False
    assert [p.id for p in client.v1.promotion_codes.list({"active": True}).data] \
        == [generated.id]
    assert [p.id for p in client.v1.promotion_codes.list({"code": "FALL20"}).data] \
        == [promo.id]
    types = [e.type for e in reversed(client.v1.events.list().data)]
    assert types == ["coupon.created", "promotion_code.created", "promotion_code.created",
                     "promotion_code.updated"]


def test_promotion_code_errors_name_the_parameter(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.promotion_codes.create({"code": "X"})  # type: ignore[typeddict-item]
    assert missing.value.param == "promotion" and missing.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": "NOPE"}})
    assert unknown.value.http_status == 404 and unknown.value.param == "promotion[coupon]"
    coupon = client.v1.coupons.create({"amount_off": 500, "currency": "eur"})
    with pytest.raises(stripe.InvalidRequestError) as half:
        client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id},
                                          "restrictions": {"minimum_amount": 100}})
    assert half.value.param == "restrictions[minimum_amount_currency]"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.promotion_codes.create({
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "restrictions": {"currency_options": {"usd": {"minimum_amount": 100}}}})
    assert refused.value.code == "parameter_not_implemented"
