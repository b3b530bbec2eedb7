"""Tiered and metered prices: parsing them, and the amount a quantity or usage costs.

`billing_scheme=tiered` prices carry `tiers` (each `up_to` a quantity or `inf`, with a
`unit_amount` and/or a `flat_amount`) and a `tiers_mode`:

- `graduated`: each tier prices the units that fall in it; a tier's flat amount is charged
  when the quantity reaches it (the first tier's always, so it can serve as a base fee);
- `volume`: the tier the whole quantity falls in prices every unit, plus its flat amount.

Stripe includes `tiers` only on request (`expand[]=tiers`); it is kept as `_tiers`.
A metered price (`recurring[usage_type]=metered`) names the meter its usage comes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .expansion import INCLUDABLE
from .wire import Obj, Params, get_enum, get_int, get_list, get_str, invalid

if TYPE_CHECKING:
    from .core import Sandbox

TIERS_MODES = ("graduated", "volume")


def _amount(tier: Params, name: str, label: str) -> int | None:
    value = get_int(tier, name, param=f"{label}[{name}]", minimum=0)
    decimal = get_str(tier, f"{name}_decimal")
    if value is None and decimal is not None:
        if not decimal.isdigit():
            raise invalid(f"The sandbox supports whole-unit `{name}_decimal` only.",
                          f"{label}[{name}_decimal]")
        value = int(decimal)
    return value


def parse_tiers(p: Params, prefix: str = "") -> tuple[str, list[Obj]]:
    """`tiers_mode` and the tiers of a `billing_scheme=tiered` price, validated."""
    def label(name: str) -> str:
        return f"{prefix}{name}]" if prefix else name

    if p.get("unit_amount") not in (None, "") or p.get("unit_amount_decimal") not in (None, ""):
        raise invalid("You may not pass `unit_amount` for a price with "
                      "`billing_scheme=tiered`; the tiers price it.", label("unit_amount"))
    mode = get_enum(p, "tiers_mode", TIERS_MODES, required=True, param=label("tiers_mode"))
    assert mode is not None
    raw = get_list(p, "tiers")
    if not raw:
        raise invalid("Missing required param: tiers.", label("tiers"), code="parameter_missing")
    tiers: list[Obj] = []
    previous = 0
    for i, tier in enumerate(raw):
        at = f"{label('tiers')}[{i}]"
        if not isinstance(tier, dict):
            raise invalid(f"Invalid {at}: must be an object", at)
        up_raw = get_str(tier, "up_to", required=True, param=f"{at}[up_to]")
        last = i == len(raw) - 1
        up_to: int | None
        if up_raw == "inf":
            if not last:
                raise invalid("Only the last tier may have `up_to` set to `inf`.",
                              f"{at}[up_to]")
            up_to = None
        else:
            up_to = get_int(tier, "up_to", param=f"{at}[up_to]", minimum=1)
            assert up_to is not None
            if last:
                raise invalid("The last tier must have `up_to` set to `inf`.", f"{at}[up_to]")
            if up_to <= previous:
                raise invalid("Each tier's `up_to` must be greater than the previous tier's.",
                              f"{at}[up_to]")
            previous = up_to
        unit = _amount(tier, "unit_amount", at)
        flat = _amount(tier, "flat_amount", at)
        if unit is None and flat is None:
            raise invalid("Each tier needs a `unit_amount` or a `flat_amount`.",
                          f"{at}[unit_amount]", code="parameter_missing")
        tiers.append({"flat_amount": flat,
                      "flat_amount_decimal": None if flat is None else str(flat),
                      "unit_amount": unit,
                      "unit_amount_decimal": None if unit is None else str(unit),
                      "up_to": up_to})
    return mode, tiers


def usage_type(sb: Sandbox, recurring_in: Params) -> tuple[str, str | None]:
    """`recurring[usage_type]` and, for a metered price, its meter (which must exist)."""
    usage = get_enum(recurring_in, "usage_type", ("licensed", "metered")) or "licensed"
    meter_id = get_str(recurring_in, "meter")
    if usage == "metered":
        if meter_id is None:
            raise invalid("A metered price needs `recurring[meter]`: the meter its usage is "
                          "billed from.", "recurring[meter]", code="parameter_missing")
        sb.get("billing.meter", meter_id, label="billing.meter", param="recurring[meter]")
    elif meter_id is not None:
        raise invalid("`recurring[meter]` is only for prices with "
                      "`recurring[usage_type]=metered`.", "recurring[meter]")
    return usage, meter_id


def apply_scheme(sb: Sandbox, price: Obj, p: Params, prefix: str = "") -> None:
    """Fill a new price's tiered fields from the create parameters."""
    scheme = get_enum(p, "billing_scheme", ("per_unit", "tiered")) or "per_unit"
    price["billing_scheme"] = scheme
    if scheme == "tiered":
        mode, tiers = parse_tiers(p, prefix)
        price.update(tiers_mode=mode, _tiers=tiers, unit_amount=None, unit_amount_decimal=None)
    elif p.get("tiers") not in (None, "") or p.get("tiers_mode") not in (None, ""):
        raise invalid("`tiers` and `tiers_mode` need `billing_scheme=tiered`.",
                      "billing_scheme")


def is_metered(price: Obj) -> bool:
    return (price.get("recurring") or {}).get("usage_type") == "metered"


def amount_for(price: Obj, quantity: int) -> int:
    """What `quantity` units (seats or usage) of the price cost, in minor units."""
    if price.get("billing_scheme") != "tiered":
        return int(price["unit_amount"]) * quantity
    tiers = price["_tiers"]
    if price["tiers_mode"] == "volume":
        for tier in tiers:
            if tier["up_to"] is None or quantity <= tier["up_to"]:
                return quantity * int(tier["unit_amount"] or 0) + int(tier["flat_amount"] or 0)
    total = 0
    floor = 0
    for i, tier in enumerate(tiers):
        top = quantity if tier["up_to"] is None else min(quantity, tier["up_to"])
        units = max(0, top - floor)
        if units or i == 0:
            total += units * int(tier["unit_amount"] or 0) + int(tier["flat_amount"] or 0)
        if tier["up_to"] is None or quantity <= tier["up_to"]:
            break
        floor = tier["up_to"]
    return total


def due_now(price: Obj, quantity: int) -> int:
    """What a checkout or a first invoice charges for the price today: nothing for a
    metered price (its usage is billed in arrears)."""
    return 0 if is_metered(price) else amount_for(price, quantity)


def usage_of(sb: Sandbox, price: Obj, customer_id: str, period: tuple[int, int]) -> int:
    """The metered price's usage by the customer over the period, from its meter."""
    from .meters import aggregate

    meter = sb.store.get("billing.meter", str(price["recurring"]["meter"]))
    return 0 if meter is None else aggregate(sb, meter, customer_id, *period)


def _price_tiers(sb: Sandbox, price: Obj) -> list[Obj] | None:
    stored = sb.store.get("price", str(price.get("id")))
    tiers = (stored or price).get("_tiers")
    return [dict(t) for t in tiers] if tiers is not None else None


INCLUDABLE[("price", "tiers")] = _price_tiers
INCLUDABLE[("plan", "tiers")] = _price_tiers
