"""Coupons and promotion codes pushed to the sandbox, read back through the official SDK."""

from __future__ import annotations

import stripe

from plangate.domain.catalog import parse_catalog
from plangate.services.stripe_sync.catalog_push import push_catalog
from plangate.services.stripe_sync.discount_push import stripe_coupon_id

DISCOUNTS = """
[coupons.launch]
name = "Launch offer"
percent_off = "12.5"
duration = "repeating"
duration_in_months = 3
max_redemptions = 500

[coupons.five]
amount_off = "5.00"
currency = "eur"
duration = "once"

[promotion_codes.launch]
code = "LAUNCH"
coupon = "launch"
max_redemptions = 100
first_time_transaction = true
minimum_amount = "10.00"
minimum_amount_currency = "usd"
expires_at = 2099-01-01T00:00:00Z
"""


def _codes(client: stripe.StripeClient, code: str) -> list[stripe.PromotionCode]:
    return list(client.v1.promotion_codes.list({"code": code}).data)


def test_push_creates_coupons_and_codes_then_changes_nothing(
    stripe_client: stripe.StripeClient,
) -> None:
    catalog = parse_catalog(DISCOUNTS)
    report = push_catalog(stripe_client, catalog)
    assert sorted(report.coupons_created) == ["five", "launch"]
    assert report.promotion_codes_created == ["launch"]
    launch = stripe_client.v1.coupons.retrieve(stripe_coupon_id(catalog.coupons["launch"]))
    assert launch.percent_off == 12.5 and launch.duration == "repeating"
    assert launch.duration_in_months == 3 and launch.max_redemptions == 500
    assert launch.name == "Launch offer" and launch.metadata["plangate_coupon_id"] == "launch"
    five = stripe_client.v1.coupons.retrieve(stripe_coupon_id(catalog.coupons["five"]))
    assert five.amount_off == 500 and five.currency == "eur" and five.duration == "once"
    [code] = _codes(stripe_client, "LAUNCH")
    assert code.active and code.promotion.coupon == launch.id
    assert code.max_redemptions == 100 and code.expires_at == 4070908800
    assert code.restrictions.first_time_transaction is True
    assert code.restrictions.minimum_amount == 1000
    assert code.restrictions.minimum_amount_currency == "usd"

    again = push_catalog(stripe_client, catalog)
    assert again.changes == 0


def test_changed_terms_make_a_new_coupon_and_move_the_code(
    stripe_client: stripe.StripeClient,
) -> None:
    push_catalog(stripe_client, parse_catalog(DISCOUNTS))
    changed = parse_catalog(DISCOUNTS.replace('percent_off = "12.5"', "percent_off = 20"))
    report = push_catalog(stripe_client, changed)
    assert report.coupons_created == ["launch"] and len(report.coupons_deleted) == 1
    assert report.promotion_codes_created == ["launch"]
    assert len(report.promotion_codes_deactivated) == 1
    codes = _codes(stripe_client, "LAUNCH")
    active = [c for c in codes if c.active]
    assert len(codes) == 2 and len(active) == 1
    assert active[0].promotion.coupon == stripe_coupon_id(changed.coupons["launch"])
    assert push_catalog(stripe_client, changed).changes == 0


def test_a_renamed_coupon_is_updated_and_a_deactivated_code_follows_the_catalog(
    stripe_client: stripe.StripeClient,
) -> None:
    push_catalog(stripe_client, parse_catalog(DISCOUNTS))
    text = DISCOUNTS.replace('name = "Launch offer"', 'name = "Spring"').replace(
        'code = "LAUNCH"', 'code = "LAUNCH"\nactive = false'
    )
    report = push_catalog(stripe_client, parse_catalog(text))
    assert report.coupons_updated == ["launch"] and report.coupons_created == []
    assert report.promotion_codes_updated == ["launch"]
    assert [c.active for c in _codes(stripe_client, "LAUNCH")] == [False]


def test_dropped_discounts_are_removed_and_foreign_ones_untouched(
    stripe_client: stripe.StripeClient,
) -> None:
    foreign = stripe_client.v1.coupons.create({"percent_off": 5, "id": "plangate_theirs"})
    stripe_client.v1.promotion_codes.create(
        {"code": "THEIRS", "promotion": {"type": "coupon", "coupon": foreign.id}}
    )
    push_catalog(stripe_client, parse_catalog(DISCOUNTS))
    report = push_catalog(stripe_client, parse_catalog('[features.x]\nname = "X"\n'))
    assert len(report.coupons_deleted) == 2 and len(report.promotion_codes_deactivated) == 1
    assert [c.id for c in stripe_client.v1.coupons.list().data] == ["plangate_theirs"]
    assert [c.active for c in _codes(stripe_client, "THEIRS")] == [True]
    assert [c.active for c in _codes(stripe_client, "LAUNCH")] == [False]
