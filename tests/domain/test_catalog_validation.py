"""Every catalog validation code, with the path it is reported at; all problems at once."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from plangate.domain.catalog import CatalogInvalid, parse_catalog

Raw = dict[str, Any]


def base() -> Raw:
    """A small valid catalog; each case below breaks one thing in it."""
    return {
        "features": {"export": {}, "analytics": {"name": "Analytics"}},
        "items": {"credits": {}},
        "lines": {"plan": {"customer_type": "user"}, "team_plan": {"customer_type": "team"}},
        "products": {
            "free": {
                "customer_type": "user",
                "line": "plan",
                "default": True,
                "features": ["analytics"],
                "items": {
                    "credits": {"quantity": 100, "repeat": "month", "expires": "when_repeated"}
                },
            },
            "pro": {
                "customer_type": "user",
                "line": "plan",
                "features": ["export", "analytics"],
                "trial_days": 14,
                "prices": {"monthly": {"amounts": {"usd": "19.99"}, "interval": "month"}},
            },
            "team": {
                "customer_type": "team",
                "line": "team_plan",
                "prices": {"monthly": {"amounts": {"usd": "99.00"}, "interval": "month"}},
            },
            "pack": {
                "customer_type": "user",
                "stackable": True,
                "items": {"credits": {"quantity": 1000}},
                "prices": {"once": {"amounts": {"usd": "10.00"}}},
            },
            "support": {
                "customer_type": "user",
                "add_on_to": ["pro"],
                "prices": {"monthly": {"amounts": {"usd": "9.00"}, "interval": "month"}},
            },
        },
    }


DELETE = object()


def setting(path: str, value: object) -> Callable[[Raw], None]:
    """A mutation that sets (or deletes) the value at a dotted path of the raw catalog."""

    def mutate(raw: Raw) -> None:
        *parents, last = path.split(".")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            del node[last]
        else:
            node[last] = copy.deepcopy(value)

    return mutate


PRO_USD = "products.pro.prices.monthly.amounts.usd"
PACK_CREDITS = "products.pack.items.credits"

CASES: list[tuple[str, Callable[[Raw], None], str]] = [
    (
        "unknown_feature",
        setting("products.pro.features", ["export", "exprot"]),
        "products.pro.features.1",
    ),
    (
        "unknown_item",
        setting("products.pack.items", {"credts": {"quantity": 1}}),
        "products.pack.items.credts",
    ),
    ("unknown_line", setting("products.pro.line", "plans"), "products.pro.line"),
    (
        "unknown_product",
        setting("products.support.add_on_to", ["pro", "nope"]),
        "products.support.add_on_to.1",
    ),
    (
        "line_customer_type_mismatch",
        setting("products.team.line", "plan"),
        "products.team.customer_type",
    ),
    (
        "default_product_has_prices",
        setting("products.free.prices", {"m": {"amounts": {"usd": "1.00"}, "interval": "month"}}),
        "products.free.prices",
    ),
    (
        "default_product_without_line",
        setting("products.free.line", DELETE),
        "products.free.default",
    ),
    (
        "default_product_server_only",
        setting("products.free.server_only", True),
        "products.free.server_only",
    ),
    (
        "multiple_default_products",
        setting("products.free2", {"customer_type": "user", "line": "plan", "default": True}),
        "lines.plan",
    ),
    ("amount_too_precise", setting(PRO_USD, "19.999"), PRO_USD),
    ("amount_invalid", setting(PRO_USD, "19,99"), PRO_USD),
    ("amount_invalid", setting(PRO_USD, "-5.00"), PRO_USD),
    (
        "amount_not_chargeable",
        setting("products.pro.prices.monthly.amounts.isk", "2500.50"),
        "products.pro.prices.monthly.amounts.isk",
    ),
    (
        "amount_not_chargeable",
        setting("products.pro.prices.monthly.amounts.kwd", "6.125"),
        "products.pro.prices.monthly.amounts.kwd",
    ),
    (
        "currency_unknown",
        setting("products.pro.prices.monthly.amounts.xyz", "1.00"),
        "products.pro.prices.monthly.amounts.xyz",
    ),
    (
        "currency_duplicate",
        setting("products.pro.prices.monthly.amounts.USD", "19.99"),
        "products.pro.prices.monthly.amounts.USD",
    ),
    ("quantity_negative", setting(f"{PACK_CREDITS}.quantity", -1), f"{PACK_CREDITS}.quantity"),
    ("quantity_too_large", setting(f"{PACK_CREDITS}.quantity", 10**16), f"{PACK_CREDITS}.quantity"),
    (
        "interval_invalid",
        setting("products.pro.prices.monthly.interval", "fortnight"),
        "products.pro.prices.monthly.interval",
    ),
    ("interval_invalid", setting(f"{PACK_CREDITS}.repeat", "0 months"), f"{PACK_CREDITS}.repeat"),
    (
        "add_on_customer_type_mismatch",
        setting("products.support.add_on_to", ["team"]),
        "products.support.add_on_to.0",
    ),
    (
        "add_on_of_add_on",
        setting("products.extra", {"customer_type": "user", "add_on_to": ["support"]}),
        "products.extra.add_on_to.0",
    ),
    (
        "add_on_of_add_on",
        setting("products.support.add_on_to", ["support"]),
        "products.support.add_on_to.0",
    ),
    (
        "expires_when_repeated_without_repeat",
        setting(f"{PACK_CREDITS}.expires", "when_repeated"),
        f"{PACK_CREDITS}.expires",
    ),
    ("invalid_id", setting("features.Export!", {}), "features.Export!"),
    (
        "invalid_id",
        setting("products.pro.prices.Monthly", {"amounts": {"usd": "1.00"}}),
        "products.pro.prices.Monthly",
    ),
    (
        "invalid_id",
        setting("products." + "x" * 65, {"customer_type": "user"}),
        "products." + "x" * 65,
    ),
    ("field_unknown", setting("products.pro.trail_days", 14), "products.pro.trail_days"),
    ("field_unknown", setting("lines.plan.customer", "user"), "lines.plan.customer"),
    ("field_unknown", setting("produtcs", {}), "produtcs"),
    ("field_required", setting("products.pro.customer_type", DELETE), "products.pro.customer_type"),
    ("field_required", setting("lines.plan.customer_type", DELETE), "lines.plan.customer_type"),
    ("field_required", setting(f"{PACK_CREDITS}.quantity", DELETE), f"{PACK_CREDITS}.quantity"),
    ("field_type", setting(f"{PACK_CREDITS}.quantity", "ten"), f"{PACK_CREDITS}.quantity"),
    ("field_type", setting(f"{PACK_CREDITS}.quantity", 10.0), f"{PACK_CREDITS}.quantity"),
    ("field_type", setting(f"{PACK_CREDITS}.quantity", True), f"{PACK_CREDITS}.quantity"),
    ("field_type", setting(PRO_USD, 19.99), PRO_USD),
    ("field_type", setting(PRO_USD, 1999), PRO_USD),
    ("field_type", setting("products.pro.default", "yes"), "products.pro.default"),
    ("field_type", setting("products.pro.features", "export"), "products.pro.features"),
    ("field_type", setting("products.pro.metadata", {"tier": 2}), "products.pro.metadata.tier"),
    ("field_type", setting("features.export", "Export"), "features.export"),
    ("value_invalid", setting("products.pro.customer_type", "org"), "products.pro.customer_type"),
    ("value_invalid", setting(f"{PACK_CREDITS}.expires", "tomorrow"), f"{PACK_CREDITS}.expires"),
    ("value_invalid", setting("products.pro.name", " "), "products.pro.name"),
    (
        "price_without_amounts",
        setting("products.pro.prices.monthly.amounts", {}),
        "products.pro.prices.monthly.amounts",
    ),
    (
        "price_without_amounts",
        setting("products.pro.prices.monthly.amounts", DELETE),
        "products.pro.prices.monthly.amounts",
    ),
    ("trial_days_invalid", setting("products.pro.trial_days", -1), "products.pro.trial_days"),
    ("trial_days_invalid", setting("products.pro.trial_days", 731), "products.pro.trial_days"),
    (
        "trial_days_invalid",
        setting("products.pack.prices.once.trial_days", 7),
        "products.pack.prices.once.trial_days",
    ),
    ("trial_days_invalid", setting("products.pack.trial_days", 7), "products.pack.trial_days"),
    ("stackable_with_line", setting("products.pack.line", "plan"), "products.pack.stackable"),
    (
        "metadata_invalid",
        setting("products.pro.metadata", {"k" * 41: "v"}),
        "products.pro.metadata." + "k" * 41,
    ),
    (
        "metadata_invalid",
        setting("products.pro.metadata", {f"k{i}": "v" for i in range(51)}),
        "products.pro.metadata",
    ),
]


def test_the_base_catalog_is_valid() -> None:
    parse_catalog(base())


@pytest.mark.parametrize(
    ("code", "mutate", "path"), CASES, ids=[f"{c[0]}@{c[2][:40]}" for c in CASES]
)
def test_each_problem_has_a_code_and_path(
    code: str, mutate: Callable[[Raw], None], path: str
) -> None:
    raw = base()
    mutate(raw)
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(raw)
    found = [(problem.code, problem.path) for problem in caught.value.problems]
    # Exactly one problem: a mistake is reported once, not as a cascade of follow-on errors.
    assert found == [(code, path)]
    assert caught.value.problems[0].message


def test_every_documented_code_has_a_case() -> None:
    documented = {
        "unknown_feature",
        "unknown_item",
        "unknown_line",
        "unknown_product",
        "line_customer_type_mismatch",
        "default_product_has_prices",
        "default_product_without_line",
        "default_product_server_only",
        "multiple_default_products",
        "amount_too_precise",
        "amount_invalid",
        "amount_not_chargeable",
        "currency_unknown",
        "currency_duplicate",
        "quantity_negative",
        "quantity_too_large",
        "interval_invalid",
        "add_on_customer_type_mismatch",
        "add_on_of_add_on",
        "expires_when_repeated_without_repeat",
        "invalid_id",
        "field_unknown",
        "field_required",
        "field_type",
        "value_invalid",
        "price_without_amounts",
        "trial_days_invalid",
        "stackable_with_line",
        "metadata_invalid",
    }
    assert documented == {code for code, _, _ in CASES}


def test_a_float_amount_says_to_quote_it() -> None:
    raw = base()
    setting(PRO_USD, 19.99)(raw)
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(raw)
    assert 'usd = "19.99"' in caught.value.problems[0].message


def test_a_typo_suggests_the_field() -> None:
    raw = base()
    setting("products.pro.trail_days", 14)(raw)
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(raw)
    assert "trial_days" in caught.value.problems[0].message


def test_toml_syntax_error_has_line_and_column() -> None:
    text = '[features.export]\nname = "Export"\n[products.pro\ncustomer_type = "user"\n'
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(text)
    (problem,) = caught.value.problems
    assert (problem.code, problem.path) == ("toml_syntax", "")
    assert "line 3" in problem.message


def test_toml_float_amount_is_rejected() -> None:
    text = """
[products.pro]
customer_type = "user"
[products.pro.prices.monthly]
amounts = { usd = 19.99 }
interval = "month"
"""
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(text)
    assert [(p.code, p.path) for p in caught.value.problems] == [("field_type", PRO_USD)]


def test_all_problems_are_reported_at_once() -> None:
    raw = base()
    setting(PRO_USD, "19.999")(raw)
    setting("products.pro.features", ["export", "sso"])(raw)
    setting("products.team.line", "nope")(raw)
    setting(f"{PACK_CREDITS}.quantity", -5)(raw)
    setting("products.support.add_on_to", ["team"])(raw)
    setting("features.BAD", {})(raw)
    setting("products.pro.trail_days", 3)(raw)
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(raw)
    assert {(p.code, p.path) for p in caught.value.problems} == {
        ("amount_too_precise", PRO_USD),
        ("unknown_feature", "products.pro.features.1"),
        ("unknown_line", "products.team.line"),
        ("quantity_negative", f"{PACK_CREDITS}.quantity"),
        ("add_on_customer_type_mismatch", "products.support.add_on_to.0"),
        ("invalid_id", "features.BAD"),
        ("field_unknown", "products.pro.trail_days"),
    }
    assert "7 problem(s)" in str(caught.value)


def test_a_bad_field_does_not_cascade() -> None:
    # customer_type is wrong: no line or add-on mismatch is reported on top of it.
    raw = base()
    setting("products.pro.customer_type", "org")(raw)
    setting("lines.plan.customer_type", "everyone")(raw)
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(raw)
    assert sorted(p.path for p in caught.value.problems) == [
        "lines.plan.customer_type",
        "products.pro.customer_type",
    ]
