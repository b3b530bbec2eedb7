"""A product line's price list from the catalog: what is shown, in which order, with money
as integer minor units formatted per currency, and the yearly saving."""

from __future__ import annotations

from pathlib import Path

import pytest

from plangate.domain.catalog import parse_catalog
from plangate.errors import NotFound
from plangate.services.pricing import pricing_table
from tests.conftest import EXAMPLE_CATALOG

UNSEEN = (Path(__file__).resolve().parents[2] / "fixtures" / "unseen_catalog.toml").read_text()


def test_the_example_plan_line() -> None:
    table = pricing_table(parse_catalog(EXAMPLE_CATALOG.read_text()), "plan")
    assert [p.id for p in table.plans] == ["free", "pro"]  # enterprise is server-only
    assert table.intervals == ("month", "year")
    assert table.currencies == ("eur", "usd")
    assert table.default_currency == "usd"
    free, pro = table.plans
    assert free.default and free.prices == ()
    assert [i.text for i in free.items] == ["100 Credits every month"]
    assert [f.name for f in pro.features] == ["Analytics", "Export"]
    monthly, yearly = pro.prices
    assert (monthly.id, monthly.interval, monthly.trial_days) == ("monthly", "month", 14)
    usd = monthly.amount("usd")
    assert usd is not None
    assert (usd.unit_amount, usd.amount_decimal, usd.display) == (1999, "19.99", "$19.99")
    assert isinstance(usd.unit_amount, int)
    # 12 × 19.99 = 239.88; 239.88 − 199.00 = 40.88, 17% of 239.88 (rounded down).
    saving = yearly.saving("usd")
    assert saving is not None
    assert (saving.unit_amount, saving.display, saving.percent) == (4088, "$40.88", 17)
    eur_saving = yearly.saving("eur")
    assert eur_saving is not None and eur_saving.unit_amount == 12 * 1899 - 18900
    assert monthly.savings == ()
    assert [p.id for p in table.plans_for("year")] == ["free", "pro"]


def test_an_unseen_catalog() -> None:
    table = pricing_table(parse_catalog(UNSEEN), "tiers")
    assert table.name == "Tiers" and table.description == "Pick a tier"
    assert [p.id for p in table.plans] == ["hobby", "studio", "lifetime"]
    assert table.intervals == ("3 months", "once")
    assert table.currencies == ("jpy", "kwd")
    assert table.default_currency == "jpy"  # no USD: the first
    studio = table.plans[1]
    quarterly = studio.prices[0]
    assert quarterly.trial_days == 7
    jpy, kwd = quarterly.amounts
    assert (jpy.unit_amount, jpy.display) == (4500, "¥4,500")
    assert (kwd.unit_amount, kwd.amount_decimal, kwd.display) == (12340, "12.340", "12.340 KWD")
    assert studio.items[0].text == "12,000 Build minutes every 3 months"
    assert studio.features[0].name == "API <access>"
    assert [p.id for p in table.plans_for("once")] == ["hobby", "lifetime"]
    assert [p.id for p in table.plans_for("3 months")] == ["hobby", "studio"]


@pytest.mark.parametrize("line", ["nope", "", "PLAN", "team_plan_x", "../plan"])
def test_an_unknown_line_is_not_found(line: str) -> None:
    with pytest.raises(NotFound) as caught:
        pricing_table(parse_catalog(EXAMPLE_CATALOG.read_text()), line)
    assert caught.value.code == "line_not_found"


def test_a_line_with_nothing_to_show_is_not_found() -> None:
    text = UNSEEN + """
[lines.sales]
name = "Sales"
customer_type = "user"
[products.deal]
name = "Deal"
customer_type = "user"
line = "sales"
server_only = true
[products.deal.prices.once]
amounts = { jpy = "1000" }
"""
    with pytest.raises(NotFound) as caught:
        pricing_table(parse_catalog(text), "sales")
    assert caught.value.code == "line_not_found"
