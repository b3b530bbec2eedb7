"""Taxes on invoices: tax rates given by hand, and automatic tax.

Automatic tax is a deterministic test computation from the customer's billing address
country (`AUTOMATIC_RATES`): the country's standard rate, `taxability_reason`
`standard_rated`. Any other valid country answers 0 with `not_collecting` (the sandbox's
account is registered nowhere else). A customer with `tax_exempt=exempt` pays 0
(`customer_exempt`), `reverse` pays 0 (`reverse_charge`). A customer without a recognised
country cannot start a subscription or an invoice with automatic tax (400
`customer_tax_location_invalid`); an invoice that meets one later is left with
`automatic_tax.status=requires_location_inputs` and no tax.

Prices are exclusive of tax unless their `tax_behavior` is `inclusive`. Tax rates given by
hand (`tax_rates` on an item, else the subscription's or the invoice's `default_tax_rates`)
are exclusive or inclusive as the rate says. Each line's tax is computed on what the line
costs after its discounts, rounded half up to the minor unit; an inclusive tax is the part
of that amount above `amount × 100 / (100 + rate)`. Totals: `total` is the subtotal less
discounts plus exclusive tax; `total_excluding_tax` leaves all tax out.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from . import invoices
from .tax_rates import COUNTRIES, new_rate, percentage_of, resolve_rates
from .wire import Obj, Params, StripeError, get_bool, get_dict, get_list, invalid

if TYPE_CHECKING:
    from .core import Sandbox

# The documented test table: the standard VAT/GST rate, in percent, by country.
AUTOMATIC_RATES: dict[str, Decimal] = {
    "AT": Decimal(20), "AU": Decimal(10), "BE": Decimal(21), "DE": Decimal(19),
    "ES": Decimal(21), "FR": Decimal(20), "GB": Decimal(20), "IE": Decimal(23),
    "IT": Decimal(22), "NL": Decimal(21), "SE": Decimal(25),
}
_NAMES = {"AU": "GST"}


def rate_for(country: str | None) -> Decimal | None:
    return AUTOMATIC_RATES.get(country or "")


def location_error() -> StripeError:
    return invalid("The customer's location isn't recognized. Add a valid address with a "
                   "country to the customer to calculate tax.", "automatic_tax",
                   code="customer_tax_location_invalid")


def country_of(customer: Obj) -> str | None:
    code = (customer.get("address") or {}).get("country")
    code = str(code).upper() if code else None
    return code if code in COUNTRIES else None


def parse(sb: Sandbox, p: Params, customer: Obj | None, *, rates_param: str
          ) -> tuple[bool, list[str]]:
    """`automatic_tax[enabled]` and the default tax rates of a subscription or invoice."""
    automatic = bool(get_bool(get_dict(p, "automatic_tax"), "enabled",
                              "automatic_tax[enabled]"))
    rates = resolve_rates(sb, get_list(p, rates_param), rates_param)
    if automatic and rates:
        raise invalid("You cannot specify tax rates when automatic tax is enabled.",
                      rates_param)
    if automatic and customer is not None and country_of(customer) is None:
        raise location_error()
    return automatic, rates


def _automatic_rate(sb: Sandbox, country: str) -> str:
    """The tax rate object automatic tax uses for a country (made once)."""
    for rate in sb.store.all("tax_rate"):
        if rate["_automatic"] and rate["country"] == country:
            return str(rate["id"])
    pct = AUTOMATIC_RATES[country]
    rate = new_rate(sb, display_name=_NAMES.get(country, "VAT"), percentage=pct,
                    inclusive=False, country_code=country, jurisdiction=country,
                    tax_type="gst" if country == "AU" else "vat", automatic=True)
    sb.store.put(rate)
    return str(rate["id"])


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _entry(amount: int, behavior: str, rate_id: str | None, reason: str | None,
           taxable: int) -> Obj:
    return {"amount": amount, "tax_behavior": behavior,
            "tax_rate_details": {"tax_rate": rate_id} if rate_id else None,
            "taxability_reason": reason, "taxable_amount": taxable,
            "type": "tax_rate_details"}


def line_taxes(base: int, rates: list[tuple[str | None, Decimal, bool]],
               reason: str | None) -> list[Obj]:
    """The taxes of one line costing `base` (after discounts): `rates` are
    `(rate id, percentage, inclusive)`."""
    inclusive = [r for r in rates if r[2]]
    incl_pct = sum((pct for _, pct, _ in inclusive), Decimal(0))
    net = _round(Decimal(base) * 100 / (100 + incl_pct)) if inclusive else base
    out = []
    left = base - net
    for i, (rid, pct, incl) in enumerate(rates):
        if incl:
            last = all(not r[2] for r in rates[i + 1:])
            amount = left if last else _round(Decimal(base - net) * pct / incl_pct)
            left -= amount
        else:
            amount = _round(Decimal(net) * pct / 100)
        out.append(_entry(amount, "inclusive" if incl else "exclusive", rid, reason, net))
    return out


def _manual_rates(sb: Sandbox, inv: Obj, line: Obj) -> list[str]:
    details = (line.get("parent") or {}).get("subscription_item_details") or {}
    sub = sb.store.get("subscription", line.get("subscription") or "") or {}
    for item in (sub.get("items") or {}).get("data", []):
        if item["id"] == details.get("subscription_item") and item.get("tax_rates"):
            return [str(r["id"]) for r in item["tax_rates"]]
    ii_id = ((line.get("parent") or {}).get("invoice_item_details") or {}).get("invoice_item")
    ii = sb.store.get("invoiceitem", ii_id or "") if ii_id else None
    if ii is not None and ii.get("tax_rates"):
        return [str(r["id"]) for r in ii["tax_rates"]]
    return [str(r["id"]) for r in (sub.get("default_tax_rates") or [])] or \
        [str(r["id"]) for r in inv.get("default_tax_rates") or []]


def _automatic(sb: Sandbox, inv: Obj, customer: Obj) -> tuple[str | None, Decimal, str]:
    """The rate id, percentage and reason automatic tax applies to this customer."""
    country = country_of(customer)
    assert country is not None
    exempt = customer.get("tax_exempt") or "none"
    if exempt != "none":
        return None, Decimal(0), "customer_exempt" if exempt == "exempt" else "reverse_charge"
    pct = rate_for(country)
    if pct is None:
        return None, Decimal(0), "not_collecting"
    return _automatic_rate(sb, country), pct, "standard_rated"


def apply(sb: Sandbox, inv: Obj, store: bool = True) -> None:
    """Compute the draft invoice's taxes and totals (again: it is idempotent); `store`
    false for a preview, which is never stored."""
    if inv["status"] != "draft":
        return
    customer = sb.get("customer", inv["customer"])
    auto = inv["automatic_tax"]
    if auto["enabled"]:
        auto.update(liability={"type": "self"}, provider="stripe")
        auto["status"] = "complete" if country_of(customer) else "requires_location_inputs"
        inv["customer_address"] = customer.get("address")
        inv["customer_tax_exempt"] = customer.get("tax_exempt") or "none"
    from .tax_ids import tax_ids_of

    inv["customer_tax_ids"] = [{"type": t["type"], "value": t["value"]}
                               for t in tax_ids_of(sb, customer["id"])]
    totals: dict[tuple[str | None, str, str | None], Obj] = {}
    for line in inv["lines"]["data"]:
        base = int(line["amount"]) - sum(int(d["amount"]) for d in line["discount_amounts"])
        if auto["enabled"] and auto["status"] == "complete":
            rid, pct, reason = _automatic(sb, inv, customer)
            price = sb.store.get("price", ((line.get("pricing") or {}).get(
                "price_details") or {}).get("price", "")) or {}
            rates: list[tuple[str | None, Decimal, bool]] = [
                (rid, pct, price.get("tax_behavior") == "inclusive")]
            line["taxes"] = line_taxes(base, rates, reason)
        else:
            chosen = [sb.get("tax_rate", r) for r in _manual_rates(sb, inv, line)]
            line["taxes"] = line_taxes(base, [(r["id"], percentage_of(r), r["inclusive"])
                                              for r in chosen], None)
        for tax in line["taxes"]:
            key = ((tax["tax_rate_details"] or {}).get("tax_rate"), tax["tax_behavior"],
                   tax["taxability_reason"])
            total = totals.setdefault(key, {**tax, "amount": 0, "taxable_amount": 0})
            total["amount"] += tax["amount"]
            total["taxable_amount"] += tax["taxable_amount"]
    inv["total_taxes"] = list(totals.values())
    recompute(inv)
    if store:
        sb.store.put(inv)


def recompute(inv: Obj) -> None:
    lines = inv["lines"]["data"]
    subtotal = sum(int(li["amount"]) for li in lines)
    discounts = sum(int(d["amount"]) for d in inv["total_discount_amounts"])
    taxes = [t for li in lines for t in li.get("taxes") or []]
    inclusive = sum(t["amount"] for t in taxes if t["tax_behavior"] == "inclusive")
    exclusive = sum(t["amount"] for t in taxes if t["tax_behavior"] == "exclusive")
    total = subtotal - discounts + exclusive
    inv.update(subtotal=subtotal, subtotal_excluding_tax=subtotal - inclusive, total=total,
               total_excluding_tax=subtotal - discounts - inclusive,
               amount_due=max(0, total), amount_remaining=max(0, total) - inv["amount_paid"])


def subscription_tax(sb: Sandbox, p: Params, customer: Obj) -> Obj:
    """A subscription's tax parameters, checked: `automatic_tax[enabled]`,
    `default_tax_rates[]` and each item's `tax_rates[]`."""
    automatic, rates = parse(sb, p, customer, rates_param="default_tax_rates")
    items = []
    for i, item in enumerate(get_list(p, "items")):
        ids = item_rates(sb, item, f"items[{i}][tax_rates]")
        if automatic and ids:
            raise invalid("You cannot specify tax rates when automatic tax is enabled.",
                          f"items[{i}][tax_rates]")
        items.append(ids)
    return {"automatic": automatic, "rates": rates, "items": items}


def configure(sb: Sandbox, target: Obj, tax: Obj) -> None:
    """Record automatic tax and tax rates on a subscription (and its items) or invoice."""
    target["automatic_tax"]["enabled"] = bool(tax["automatic"])
    if tax["automatic"]:
        target["automatic_tax"]["liability"] = {"type": "self"}
    target["default_tax_rates"] = _objects(sb, tax["rates"])
    items = (target.get("items") or {}).get("data", []) if target["object"] == "subscription" \
        else []
    for item, ids in zip(items, tax.get("items") or [], strict=False):
        item["tax_rates"] = _objects(sb, ids)


def _objects(sb: Sandbox, ids: list[str]) -> list[Obj]:
    return [sb.snapshot(sb.get("tax_rate", r)) for r in ids]


def item_rates(sb: Sandbox, item: Any, param: str) -> list[str]:
    """A subscription item's or invoice item's `tax_rates[]`, checked."""
    return resolve_rates(sb, get_list(item, "tax_rates") if isinstance(item, dict) else [],
                         param)


invoices.BEFORE_FINALIZE.append(lambda sb, inv: apply(sb, inv))
