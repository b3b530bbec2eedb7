"""Reading the catalog's `coupons` and `promotion_codes` sections (see `discounts`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from plangate.domain.catalog.discounts import DURATIONS, Coupon, Duration, PromotionCode
from plangate.domain.catalog.reader import Reader, join_path
from plangate.domain.money import MoneyError, from_minor_units, get_currency, to_minor_units

__all__ = ["read_coupons", "read_promotion_codes"]

COUPON_FIELDS = (
    "name",
    "percent_off",
    "amount_off",
    "currency",
    "duration",
    "duration_in_months",
    "max_redemptions",
    "redeem_by",
)
PROMOTION_CODE_FIELDS = (
    "code",
    "coupon",
    "max_redemptions",
    "expires_at",
    "first_time_transaction",
    "minimum_amount",
    "minimum_amount_currency",
    "active",
)
# Stripe's promotion codes: letters, digits and dashes or underscores, at most 500 characters.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,500}")


def _timestamp(r: Reader, table: Mapping[str, Any], key: str, path: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.tzinfo is None:
        r.add(
            join_path(path, key),
            "value_invalid",
            f"{key} must be a date and time with a time zone, such as 2027-01-01T00:00:00Z",
        )
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _positive(r: Reader, table: Mapping[str, Any], key: str, path: str) -> int | None:
    value = r.integer(table, key, path)
    if value is not None and value < 1:
        r.add(join_path(path, key), "value_invalid", f"{key} must be at least 1, not {value}")
        return None
    return value


def _percent(r: Reader, value: object, path: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        r.add(
            path,
            "field_type",
            "percent_off must be a whole number or a decimal string such "
            'as "12.5" (not a float: it cannot hold every percentage exactly)',
        )
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if (
        not number.is_finite()
        or not Decimal(0) < number <= Decimal(100)
        or number != number.quantize(Decimal("0.01"))
    ):
        r.add(
            path,
            "value_invalid",
            f"percent_off must be above 0 and at most 100, with at "
            f"most two decimals, not {value!r}",
        )
        return None
    return format(number.normalize(), "f")


def _money(
    r: Reader, table: Mapping[str, Any], key: str, currency_key: str, path: str
) -> tuple[str | None, str | None]:
    """An amount with its currency, both or neither; the amount above zero."""
    amount, currency = table.get(key), table.get(currency_key)
    if amount is None and currency is None:
        return None, None
    if amount is None or currency is None:
        missing = key if amount is None else currency_key
        r.add(
            join_path(path, missing),
            "field_required",
            f"{key} and {currency_key} go together: {missing} is missing",
        )
        return None, None
    if not isinstance(amount, str) or not isinstance(currency, str):
        r.add(
            join_path(path, key),
            "field_type",
            f'{key} is a decimal string such as "5.00" and {currency_key} a currency code',
        )
        return None, None
    try:
        code = get_currency(currency).code
        minor = to_minor_units(amount, code)
    except MoneyError as error:
        r.add(join_path(path, key), error.code, error.message)
        return None, None
    if minor < 1:
        r.add(join_path(path, key), "value_invalid", f"{key} must be more than zero")
        return None, None
    return from_minor_units(minor, code), code  # canonical: "5" and "5.00" are one amount


def read_coupon(r: Reader, coupon_id: str, body: Mapping[str, Any], path: str) -> Coupon | None:
    before = len(r.problems)
    r.fields(body, COUPON_FIELDS, path)
    name = r.string(body, "name", path) or coupon_id
    percent = (
        _percent(r, body["percent_off"], join_path(path, "percent_off"))
        if "percent_off" in body
        else None
    )
    amount, currency = _money(r, body, "amount_off", "currency", path)
    if ("percent_off" in body) == ("amount_off" in body):
        r.add(
            path,
            "coupon_amount_required",
            "a coupon sets exactly one of percent_off and amount_off (with currency)",
        )
    duration = r.choice(body, "duration", path, DURATIONS)
    if "duration" not in body:
        r.add(
            join_path(path, "duration"),
            "field_required",
            "duration is required: once, repeating or forever",
        )
    months = _positive(r, body, "duration_in_months", path)
    if duration == "repeating" and months is None and "duration_in_months" not in body:
        r.add(
            join_path(path, "duration_in_months"),
            "field_required",
            "a repeating coupon needs duration_in_months",
        )
    if duration in ("once", "forever") and "duration_in_months" in body:
        r.add(
            join_path(path, "duration_in_months"),
            "field_not_allowed",
            f"duration_in_months is only for repeating coupons, not {duration}",
        )
    max_redemptions = _positive(r, body, "max_redemptions", path)
    redeem_by = _timestamp(r, body, "redeem_by", path)
    if len(r.problems) > before or duration is None:
        return None
    return Coupon(
        coupon_id,
        name,
        cast(Duration, duration),
        percent,
        amount,
        currency,
        months,
        max_redemptions,
        redeem_by,
    )


def read_coupons(r: Reader, data: Mapping[str, Any]) -> dict[str, Coupon]:
    coupons: dict[str, Coupon] = {}
    for coupon_id, value in (r.table(data.get("coupons", {}), "coupons") or {}).items():
        path = join_path("coupons", coupon_id)
        if not r.id(coupon_id, path, "coupon"):
            continue
        body = r.table(value, path)
        if body is not None and (coupon := read_coupon(r, coupon_id, body, path)):
            coupons[coupon_id] = coupon
    return coupons


def read_promotion_codes(
    r: Reader, data: Mapping[str, Any], declared_coupons: set[str], coupons: Mapping[str, Coupon]
) -> dict[str, PromotionCode]:
    """`declared_coupons` counts coupons with problems too, so a code naming one gets no
    second, misleading problem."""
    codes: dict[str, PromotionCode] = {}
    seen: dict[str, str] = {}
    for pid, value in (r.table(data.get("promotion_codes", {}), "promotion_codes") or {}).items():
        path = join_path("promotion_codes", pid)
        if not r.id(pid, path, "promotion code"):
            continue
        body = r.table(value, path)
        if body is None:
            continue
        before = len(r.problems)
        r.fields(body, PROMOTION_CODE_FIELDS, path)
        code = r.string(body, "code", path)
        if "code" not in body:
            r.add(
                join_path(path, "code"), "field_required", "code (what customers type) is required"
            )
        elif code is not None and not CODE_PATTERN.fullmatch(code):
            r.add(
                join_path(path, "code"),
                "value_invalid",
                f"code {code!r} may hold only letters, digits, - and _",
            )
        elif code is not None and code.lower() in seen:
            r.add(
                join_path(path, "code"),
                "duplicate_code",
                f"code {code!r} is also promotion_codes.{seen[code.lower()]}'s (codes are "
                "compared without case)",
            )
        coupon = r.string(body, "coupon", path)
        if coupon is None and "coupon" not in body:
            r.add(join_path(path, "coupon"), "field_required", "coupon is required")
        elif coupon is not None and coupon not in declared_coupons:
            r.add(join_path(path, "coupon"), "unknown_coupon", f"no coupon {coupon!r}")
        active = r.boolean(body, "active", path) if "active" in body else True
        first_time = r.boolean(body, "first_time_transaction", path)
        max_redemptions = _positive(r, body, "max_redemptions", path)
        expires_at = _timestamp(r, body, "expires_at", path)
        minimum, minimum_currency = _money(
            r, body, "minimum_amount", "minimum_amount_currency", path
        )
        target = coupons.get(coupon or "")
        if target is not None and expires_at and target.redeem_by and expires_at > target.redeem_by:
            r.add(
                join_path(path, "expires_at"),
                "value_invalid",
                f"expires_at is after coupon {coupon!r}'s redeem_by ({target.redeem_by})",
            )
        if len(r.problems) > before or code is None or coupon is None:
            continue
        seen[code.lower()] = pid
        codes[pid] = PromotionCode(
            pid,
            code,
            coupon,
            active,
            max_redemptions,
            expires_at,
            first_time,
            minimum,
            minimum_currency,
        )
    return codes
