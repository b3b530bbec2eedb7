"""The catalog model: the example, content versioning, round trips, helpers, inline products
and diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plangate.domain.catalog import (
    Catalog,
    CatalogInvalid,
    Product,
    diff_catalogs,
    parse_catalog,
    parse_product_definition,
)
from plangate.domain.intervals import Interval
from plangate.domain.money import MoneyError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plangate.toml"

CATALOG = """
version_label = "2026-11"

[features.export]
name = "Export"

[features.analytics]

[items.credits]
name = "Credits"

[lines.plan]
name = "Plan"
customer_type = "user"

[products.free]
name = "Free"
customer_type = "user"
line = "plan"
default = true
features = ["analytics"]
items.credits = { quantity = 100, repeat = "month", expires = "when_repeated" }

[products.pro]
name = "Pro"
customer_type = "user"
line = "plan"
features = ["export", "analytics"]
trial_days = 14
items.credits = { quantity = 5000, repeat = "month", expires = "when_repeated" }
[products.pro.prices.monthly]
amounts = { usd = "19.99", eur = "18.99" }
interval = "month"
[products.pro.prices.yearly]
amounts = { usd = "199.00", eur = "189.00" }
interval = "year"
trial_days = 30

[products.credit_pack]
customer_type = "user"
stackable = true
items.credits = { quantity = 1000 }
[products.credit_pack.prices.once]
amounts = { usd = "10.00" }
"""

# The same catalog: sections reordered, inline tables expanded, lists reordered, defaults
# spelled out, amounts with trailing zeros, comments and blank lines.
REFORMATTED = """
version_label   =   "2026-11"
# products first this time
[products.credit_pack]
customer_type = "user"
name = "credit_pack"          # the default name, spelled out
stackable = true
server_only = false
[products.credit_pack.items.credits]
quantity = 1000
repeat = "never"
expires = "when_purchase_expires"
[products.credit_pack.prices.once]
amounts = { usd = "10" }

[products.pro]
customer_type = "user"
name = "Pro"
line = "plan"
features = ["analytics", "export", "export"]
trial_days = 14
items.credits = { repeat = "1 month", quantity = 5000, expires = "when_repeated" }
[products.pro.prices.yearly]
interval = "year"
trial_days = 30
amounts = { eur = "189", usd = "199.000" }
[products.pro.prices.monthly]
interval = "month"
amounts = { EUR = "18.99", usd = "19.99" }

[products.free]
name = "Free"
default = true
customer_type = "user"
line = "plan"
features = ["analytics"]
items.credits = { quantity = 100, repeat = "month", expires = "when_repeated" }

[lines.plan]
customer_type = "user"
name = "Plan"

[items.credits]
name = "Credits"

[features.analytics]
name = "analytics"
[features.export]
name = "Export"
"""


def test_the_example_catalog_validates() -> None:
    catalog = parse_catalog(EXAMPLE.read_text())
    assert catalog.default_product("plan") is not None
    assert catalog.default_product("team_plan") is not None
    assert catalog.products["enterprise"].server_only
    assert catalog.products["credit_pack"].stackable
    assert {p.id for p in catalog.add_ons_of("pro")} == {"priority_support"}
    assert catalog.products["team"].items["seats"].quantity == 10


def test_the_catalog_reference_example_validates() -> None:
    reference = (EXAMPLE.parents[1] / "docs" / "catalog.md").read_text()
    block = reference.split("```toml\n", 1)[1].split("```", 1)[0]
    assert parse_catalog(block) == parse_catalog(CATALOG)


def test_version_is_stable_under_reformatting() -> None:
    assert parse_catalog(REFORMATTED) == parse_catalog(CATALOG)
    assert parse_catalog(REFORMATTED).version == parse_catalog(CATALOG).version
    assert parse_catalog(CATALOG).version.startswith("cv_")
    assert len(parse_catalog(CATALOG).version) == 3 + 16


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('usd = "19.99", eur', 'usd = "24.99", eur'),
        ('features = ["export", "analytics"]', 'features = ["export"]'),
        ('name = "Pro"', 'name = "Pro+"'),
        ("trial_days = 14", "trial_days = 7"),
        ('version_label = "2026-11"', 'version_label = "2026-12"'),
        ("quantity = 5000", "quantity = 5001"),
        ('interval = "year"', 'interval = "2 years"'),
        ("stackable = true", "stackable = false"),
    ],
)
def test_version_changes_with_any_semantic_change(before: str, after: str) -> None:
    assert before in CATALOG
    changed = parse_catalog(CATALOG.replace(before, after, 1))
    assert changed.version != parse_catalog(CATALOG).version
    assert changed != parse_catalog(CATALOG)


def test_dict_json_and_toml_round_trips() -> None:
    catalog = parse_catalog(EXAMPLE.read_text())
    as_json = json.loads(json.dumps(catalog.to_dict()))
    assert Catalog.from_dict(as_json) == catalog
    assert Catalog.from_dict(as_json).version == catalog.version
    assert parse_catalog(catalog.to_toml()) == catalog
    assert catalog.to_dict() == Catalog.from_dict(catalog.to_dict()).to_dict()


def test_catalog_is_immutable_and_hashable_by_content() -> None:
    first, second = parse_catalog(CATALOG), parse_catalog(REFORMATTED)
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert hash(first.products["pro"]) == hash(second.products["pro"])
    with pytest.raises(AttributeError):
        first.version_label = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.products["x"] = first.products["pro"]  # type: ignore[index]


def test_product_snapshot_round_trip() -> None:
    catalog = parse_catalog(EXAMPLE.read_text())
    for product in catalog.products.values():
        snapshot = json.loads(json.dumps(product.to_dict()))
        assert snapshot["id"] == product.id
        assert Product.from_dict(snapshot) == product


def test_a_snapshot_loads_without_its_catalog_and_under_old_rules() -> None:
    # Features that no longer exist and a trial the current rules would refuse still load.
    snapshot = {
        "id": "legacy",
        "customer_type": "user",
        "features": ["retired_feature"],
        "trial_days": 900,
        "prices": {"once": {"amounts": {"usd": "5.00"}}},
    }
    product = Product.from_dict(snapshot)
    assert product.features == ("retired_feature",)
    with pytest.raises(CatalogInvalid) as caught:
        Product.from_dict({"customer_type": "user"})
    assert [(p.code, p.path) for p in caught.value.problems] == [("field_required", "product.id")]


def test_products_and_prices() -> None:
    catalog = parse_catalog(CATALOG)
    pro, pack = catalog.products["pro"], catalog.products["credit_pack"]
    assert pro.is_subscription and not pro.is_one_time
    assert pack.is_one_time and not pack.is_subscription
    assert pack.name == "credit_pack"  # name defaults to the id
    monthly = pro.price("monthly")
    assert monthly is not None and pro.price("weekly") is None
    assert monthly.interval == Interval("month")
    assert monthly.minor_amount("usd") == 1999
    assert monthly.minor_amount("EUR") == 1899
    with pytest.raises(MoneyError) as caught:
        monthly.minor_amount("gbp")
    assert caught.value.code == "currency_not_offered"
    assert pro.effective_trial_days("monthly") == 14
    assert pro.effective_trial_days("yearly") == 30  # a price's trial overrides the product's
    assert pack.effective_trial_days("once") is None
    grant = pack.items["credits"]
    assert (grant.quantity, grant.repeat, grant.expires) == (1000, None, "when_purchase_expires")


def test_lines() -> None:
    catalog = parse_catalog(CATALOG)
    assert [p.id for p in catalog.products_in_line("plan")] == ["free", "pro"]
    default = catalog.default_product("plan")
    assert default is not None and default.id == "free"
    assert catalog.default_product("nope") is None


def test_inline_product_definition() -> None:
    catalog = parse_catalog(CATALOG)
    product = parse_product_definition(
        {
            "name": "Beta access",
            "customer_type": "user",
            "features": ["export"],
            "items": {"credits": {"quantity": 50}},
        },
        catalog,
        product_id="beta-2026",
    )
    assert product.id == "beta-2026" and not product.stackable and product.line is None


def test_inline_product_problems_are_prefixed_and_all_reported() -> None:
    catalog = parse_catalog(CATALOG)
    with pytest.raises(CatalogInvalid) as caught:
        parse_product_definition(
            {
                "customer_type": "user",
                "line": "plan",
                "stackable": True,
                "features": ["sso"],
                "items": {"credits": {"quantity": -1}},
                "prices": {"m": {"amounts": {"usd": "1.999"}, "interval": "month"}},
            },
            catalog,
            product_id="pro",
        )
    assert {(p.code, p.path) for p in caught.value.problems} == {
        ("product_id_conflict", "product.id"),
        ("field_not_allowed", "product.line"),
        ("field_not_allowed", "product.stackable"),
        ("unknown_feature", "product.features.0"),
        ("quantity_negative", "product.items.credits.quantity"),
        ("amount_too_precise", "product.prices.m.amounts.usd"),
    }


def test_inline_product_id_is_validated() -> None:
    with pytest.raises(CatalogInvalid) as caught:
        parse_product_definition({"customer_type": "user"}, parse_catalog(CATALOG), product_id="A")
    assert [(p.code, p.path) for p in caught.value.problems] == [("invalid_id", "product.id")]


def test_diff_catalogs() -> None:
    old = parse_catalog(CATALOG)
    new = parse_catalog(
        CATALOG.replace('usd = "19.99"', 'usd = "24.99"')
        .replace("trial_days = 14", "trial_days = 7")
        .replace('[features.analytics]\n', '[features.analytics]\n\n[features.sso]\n')
        .replace("[products.credit_pack]", "[products.pack]")
        .replace("[products.credit_pack.prices.once]", "[products.pack.prices.once]")
        .replace('[products.pro.prices.yearly]\namounts = { usd = "199.00", eur = "189.00" }\n'
                 'interval = "year"\ntrial_days = 30\n', "")
    )  # fmt: skip
    changes = diff_catalogs(old, new)
    summary = {(c.action, c.kind, c.path) for c in changes}
    assert summary == {
        ("added", "feature", "features.sso"),
        ("added", "product", "products.pack"),
        ("removed", "product", "products.credit_pack"),
        ("changed", "product", "products.pro"),
        ("changed", "price", "products.pro.prices.monthly"),
        ("removed", "price", "products.pro.prices.yearly"),
    }
    by_path = {c.path: c for c in changes}
    assert "trial_days: 14 → 7" in by_path["products.pro"].text
    assert 'amounts.usd: "19.99" → "24.99"' in by_path["products.pro.prices.monthly"].details
    assert 'price "pro.monthly"' in by_path["products.pro.prices.monthly"].text
    assert diff_catalogs(old, parse_catalog(REFORMATTED)) == []
