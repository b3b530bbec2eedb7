"""Coupons and promotion codes in the catalog: parsing, canonical form, refusals."""

from __future__ import annotations

import pytest

from plangate.domain.catalog import CatalogInvalid, parse_catalog

GOOD = """
[coupons.launch]
name = "Launch offer"
percent_off = 20
duration = "repeating"
duration_in_months = 3
redeem_by = 2027-01-01T00:00:00Z

[coupons.five]
amount_off = "5"
currency = "USD"
duration = "once"

[promotion_codes.launch20]
code = "LAUNCH20"
coupon = "launch"
max_redemptions = 100
first_time_transaction = true
minimum_amount = "10"
minimum_amount_currency = "usd"
"""


def test_coupons_and_codes_parse_to_minor_units_and_round_trip() -> None:
    catalog = parse_catalog(GOOD)
    launch, five = catalog.coupons["launch"], catalog.coupons["five"]
    assert launch.percent_off == "20" and launch.duration_in_months == 3
    assert launch.redeem_by == "2027-01-01T00:00:00Z" and launch.redeem_by_unix == 1798761600
    assert launch.describe() == "20% off for 3 months"
    assert five.amount_off == "5.00" and five.currency == "usd" and five.amount_off_minor == 500
    promo = catalog.promotion_codes["launch20"]
    assert promo.minimum_amount_minor == 1000 and promo.first_time_transaction
    assert catalog.promotion_code("launch20") is promo  # codes compare without case
    assert catalog.promotion_code("NOPE") is None
    again = parse_catalog(catalog.to_dict())
    assert again == catalog and again.version == catalog.version
    assert parse_catalog(catalog.to_toml()).version == catalog.version


def test_a_catalog_without_discounts_keeps_its_version() -> None:
    plain = parse_catalog('[features.export]\nname = "Export"\n')
    assert "coupons" not in plain.to_dict() and "promotion_codes" not in plain.to_dict()
    changed = parse_catalog(GOOD.replace("percent_off = 20", 'percent_off = "12.5"'))
    assert changed.version != parse_catalog(GOOD).version
    assert changed.coupons["launch"].percent_off == "12.5"


@pytest.mark.parametrize(
    ("text", "path", "code"),
    [
        (
            '[coupons.a]\npercent_off = 20.5\nduration = "once"',
            "coupons.a.percent_off",
            "field_type",
        ),
        (
            '[coupons.a]\npercent_off = 0\nduration = "once"',
            "coupons.a.percent_off",
            "value_invalid",
        ),
        (
            '[coupons.a]\npercent_off = "100.001"\nduration = "once"',
            "coupons.a.percent_off",
            "value_invalid",
        ),
        ('[coupons.a]\nduration = "once"', "coupons.a", "coupon_amount_required"),
        (
            '[coupons.a]\npercent_off = 5\namount_off = "1"\ncurrency = "usd"\nduration = "once"',
            "coupons.a",
            "coupon_amount_required",
        ),
        (
            '[coupons.a]\namount_off = "1"\nduration = "once"',
            "coupons.a.currency",
            "field_required",
        ),
        (
            '[coupons.a]\namount_off = "1.001"\ncurrency = "usd"\nduration = "once"',
            "coupons.a.amount_off",
            "amount_too_precise",
        ),
        (
            '[coupons.a]\namount_off = "1"\ncurrency = "xyz"\nduration = "once"',
            "coupons.a.amount_off",
            "currency_unknown",
        ),
        ("[coupons.a]\npercent_off = 5", "coupons.a.duration", "field_required"),
        (
            '[coupons.a]\npercent_off = 5\nduration = "weekly"',
            "coupons.a.duration",
            "value_invalid",
        ),
        (
            '[coupons.a]\npercent_off = 5\nduration = "repeating"',
            "coupons.a.duration_in_months",
            "field_required",
        ),
        (
            '[coupons.a]\npercent_off = 5\nduration = "forever"\nduration_in_months = 2',
            "coupons.a.duration_in_months",
            "field_not_allowed",
        ),
        (
            '[coupons.a]\npercent_off = 5\nduration = "once"\nmax_redemptions = 0',
            "coupons.a.max_redemptions",
            "value_invalid",
        ),
        (
            '[coupons.a]\npercent_off = 5\nduration = "once"\nredeem_by = 2027-01-01T00:00:00',
            "coupons.a.redeem_by",
            "value_invalid",
        ),
        (
            '[coupons.a]\npercent_off = 5\nduration = "once"\nprecent = 1',
            "coupons.a.precent",
            "field_unknown",
        ),
        ('[coupons.A]\npercent_off = 5\nduration = "once"', "coupons.A", "invalid_id"),
        (
            '[promotion_codes.p]\ncode = "X"\ncoupon = "nope"',
            "promotion_codes.p.coupon",
            "unknown_coupon",
        ),
        ('[promotion_codes.p]\ncoupon = "nope"', "promotion_codes.p.code", "field_required"),
        ('[promotion_codes.p]\ncode = "TWO WORDS"', "promotion_codes.p.code", "value_invalid"),
        (
            '[coupons.a]\npercent_off = 5\nduration = "once"\n[promotion_codes.p]\ncode = "X"\n'
            'coupon = "a"\n[promotion_codes.q]\ncode = "x"\ncoupon = "a"',
            "promotion_codes.q.code",
            "duplicate_code",
        ),
        (
            '[coupons.a]\npercent_off = 5\nduration = "once"\n[promotion_codes.p]\ncode = "X"\n'
            'coupon = "a"\nminimum_amount = "10"',
            "promotion_codes.p.minimum_amount_currency",
            "field_required",
        ),
        (
            '[coupons.a]\npercent_off = 5\nduration = "once"\nredeem_by = 2027-01-01T00:00:00Z\n'
            '[promotion_codes.p]\ncode = "X"\ncoupon = "a"\nexpires_at = 2027-06-01T00:00:00Z',
            "promotion_codes.p.expires_at",
            "value_invalid",
        ),
    ],
)
def test_bad_discounts_are_refused_naming_the_field(text: str, path: str, code: str) -> None:
    with pytest.raises(CatalogInvalid) as exc:
        parse_catalog(text)
    assert (path, code) in {(p.path, p.code) for p in exc.value.problems}, exc.value
    assert all(p.message for p in exc.value.problems)


def test_a_code_naming_a_broken_coupon_gets_no_second_problem() -> None:
    with pytest.raises(CatalogInvalid) as exc:
        parse_catalog(
            '[coupons.a]\npercent_off = 500\nduration = "once"\n'
            '[promotion_codes.p]\ncode = "X"\ncoupon = "a"'
        )
    assert [p.path for p in exc.value.problems] == ["coupons.a.percent_off"]


def test_diff_reports_coupon_and_code_changes() -> None:
    from plangate.domain.catalog import diff_catalogs

    old = parse_catalog(GOOD)
    new = parse_catalog(
        GOOD.replace("percent_off = 20", "percent_off = 25").replace(
            "max_redemptions = 100", "max_redemptions = 50"
        )
    )
    texts = [c.text for c in diff_catalogs(old, new)]
    assert texts == [
        'coupon "launch" changed: percent_off: "20" → "25"',
        'promotion_code "launch20" changed: max_redemptions: 100 → 50',
    ]
