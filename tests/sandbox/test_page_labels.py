"""How the hosted pages write amounts and prices."""

from __future__ import annotations

import pytest

from plangate.sandbox.pages import amount_label, price_label


@pytest.mark.parametrize("amount, currency, shown", [
    (1999, "usd", "$19.99"), (1899, "EUR", "€18.99"), (5, "gbp", "£0.05"),
    (2500, "jpy", "JPY 2500"), (-150, "usd", "-$1.50"), (1000, "chf", "CHF 10.00"),
])
def test_amounts_in_their_currencys_units(amount: int, currency: str, shown: str) -> None:
    assert amount_label(amount, currency) == shown


def test_prices_carry_their_interval() -> None:
    def price(interval: str | None, count: int = 1) -> dict[str, object]:
        recurring = {"interval": interval, "interval_count": count} if interval else None
        return {"unit_amount": 5000, "currency": "usd", "recurring": recurring}

    assert price_label(price("month")) == "$50.00 / month"
    assert price_label(price("month", 3)) == "$50.00 / 3 months"
    assert price_label(price(None), quantity=2) == "$100.00"
