"""Coupons and promotion codes in the catalog (docs/discounts.md).

```toml
[coupons.launch]
name = "Launch offer"
percent_off = 20                # or "12.5"; or amount_off = "5.00" with currency = "usd"
duration = "repeating"          # once | repeating | forever
duration_in_months = 3
max_redemptions = 500           # optional
redeem_by = 2027-01-01T00:00:00Z

[promotion_codes.launch20]
code = "LAUNCH20"               # what customers type
coupon = "launch"
max_redemptions = 100           # optional, as are the rest
expires_at = 2026-12-31T00:00:00Z
first_time_transaction = true
minimum_amount = "10.00"        # with minimum_amount_currency = "usd"
active = true
```

Amounts are decimal strings turned into integer minor units; a percentage is a whole number
or a decimal string with at most two decimals (Stripe's precision), never a TOML float.
Timestamps are kept as UTC RFC 3339 strings in the canonical form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from plangate.domain.money import to_minor_units

__all__ = ["DURATIONS", "Coupon", "Duration", "PromotionCode"]

Duration = Literal["once", "repeating", "forever"]
DURATIONS: tuple[str, ...] = ("once", "repeating", "forever")


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Coupon:
    """A discount's terms. Exactly one of `percent_off` (canonical decimal string) and
    `amount_off` (a decimal string in `currency`) is set."""

    id: str
    name: str
    duration: Duration
    percent_off: str | None = None
    amount_off: str | None = None
    currency: str | None = None
    duration_in_months: int | None = None
    max_redemptions: int | None = None
    redeem_by: str | None = None

    @property
    def amount_off_minor(self) -> int | None:
        if self.amount_off is None or self.currency is None:
            return None
        return to_minor_units(self.amount_off, self.currency)

    @property
    def redeem_by_unix(self) -> int | None:
        return _unix(self.redeem_by)

    def describe(self) -> str:
        """ "20% off for 3 months", "5.00 USD off once"."""
        off = (
            f"{self.percent_off}% off"
            if self.percent_off is not None
            else f"{self.amount_off} {str(self.currency).upper()} off"
        )
        if self.duration == "repeating":
            months = self.duration_in_months
            return f"{off} for {months} month{'s' if months != 1 else ''}"
        return f"{off} {self.duration}"

    def to_dict(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "percent_off": self.percent_off,
                "amount_off": self.amount_off,
                "currency": self.currency,
                "duration": self.duration,
                "duration_in_months": self.duration_in_months,
                "max_redemptions": self.max_redemptions,
                "redeem_by": self.redeem_by,
            }
        )


@dataclass(frozen=True)
class PromotionCode:
    """A customer-facing code for a coupon, with its own limits."""

    id: str
    code: str
    coupon: str
    active: bool = True
    max_redemptions: int | None = None
    expires_at: str | None = None
    first_time_transaction: bool = False
    minimum_amount: str | None = None
    minimum_amount_currency: str | None = None

    @property
    def expires_at_unix(self) -> int | None:
        return _unix(self.expires_at)

    @property
    def minimum_amount_minor(self) -> int | None:
        if self.minimum_amount is None or self.minimum_amount_currency is None:
            return None
        return to_minor_units(self.minimum_amount, self.minimum_amount_currency)

    def to_dict(self) -> dict[str, Any]:
        return _without_none(
            {
                "code": self.code,
                "coupon": self.coupon,
                "active": self.active,
                "max_redemptions": self.max_redemptions,
                "expires_at": self.expires_at,
                "first_time_transaction": self.first_time_transaction,
                "minimum_amount": self.minimum_amount,
                "minimum_amount_currency": self.minimum_amount_currency,
            }
        )


def _unix(stamp: str | None) -> int | None:
    if stamp is None:
        return None
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
