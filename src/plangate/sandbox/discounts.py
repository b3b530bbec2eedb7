"""Discounts: a coupon or promotion code redeemed on a checkout, subscription or invoice.

Redeeming checks what Stripe checks (the coupon still valid, the promotion code active, not
expired, under its redemption limits, for this customer, a first purchase if so restricted,
above its minimum amount) and creates a `discount` object that counts one redemption of each.
Invoices then carry `discounts`, each line its `discount_amounts`, and the invoice its
`total_discount_amounts`, with `total` and `amount_due` lowered.

Amounts stay integers in minor units: a percentage is taken off each discountable line and
rounded half up to the minor unit; an amount off is capped at what the lines add up to and
spread over them in proportion, the remainder going to the largest lines first, so the line
discounts always add up to the coupon's amount. Several discounts apply one after the other,
each to what the previous left. A `repeating` discount ends `duration_in_months` calendar
months after it started: invoices created before its end are discounted (a monthly
subscription with a 3-month coupon gets three discounted invoices); a `once` discount
applies to one invoice, then leaves the subscription.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from .coupons import is_valid
from .periods import add_intervals
from .tiers import due_now
from .wire import Obj, StripeError, invalid, new_id

if TYPE_CHECKING:
    from .core import Sandbox


@dataclass(frozen=True)
class Redemption:
    """A coupon about to be redeemed, and the promotion code it came through, if any."""

    coupon: Obj
    promotion_code: Obj | None = None

    def wire(self) -> Obj:
        """The `{coupon, promotion_code}` entry of a Checkout Session's `discounts`."""
        promo = self.promotion_code
        return {"coupon": self.coupon["id"], "promotion_code": promo["id"] if promo else None}


def _first_purchase(sb: Sandbox, customer: Obj | None) -> bool:
    if customer is None:
        return True
    return not any(ch["customer"] == customer["id"] and ch["status"] == "succeeded"
                   for ch in sb.store.values("charge"))


def check_coupon(sb: Sandbox, coupon: Obj, currency: str | None, param: str) -> None:
    if not is_valid(sb, coupon):
        raise invalid(f"Coupon {coupon['id']} is no longer valid.", param,
                      code="coupon_expired")
    if coupon["amount_off"] is not None and currency is not None \
            and coupon["currency"] != currency:
        raise invalid(f"The coupon {coupon['id']} is in {str(coupon['currency']).upper()} "
                      f"and cannot be applied to a purchase in {currency.upper()}.", param)


def check_promotion_code(sb: Sandbox, promo: Obj, customer: Obj | None, currency: str | None,
                         subtotal: int | None, param: str) -> Obj:
    """The promotion code's coupon, if the code can be redeemed by this customer now."""
    code = promo["code"]
    if not promo["active"]:
        raise invalid(f"This promotion code ({code}) is inactive.", param)
    if promo["expires_at"] is not None and sb.real_now() >= promo["expires_at"]:
        raise invalid(f"This promotion code ({code}) has expired.", param)
    limit = promo["max_redemptions"]
    if limit is not None and promo["times_redeemed"] >= limit:
        raise invalid(f"This promotion code ({code}) has been redeemed the maximum number "
                      "of times.", param)
    if promo["customer"] is not None and (customer is None
                                          or customer["id"] != promo["customer"]):
        raise invalid(f"This promotion code ({code}) cannot be redeemed by this customer.",
                      param)
    rules = promo["restrictions"]
    if rules["first_time_transaction"] and not _first_purchase(sb, customer):
        raise invalid(f"This promotion code ({code}) cannot be redeemed because the "
                      "customer has prior transactions.", param)
    minimum = rules["minimum_amount"]
    if minimum is not None and subtotal is not None and (
            rules["minimum_amount_currency"] != currency or subtotal < minimum):
        raise invalid(f"This promotion code ({code}) requires a minimum order of "
                      f"{minimum} {str(rules['minimum_amount_currency']).upper()} minor "
                      "units.", param)
    coupon = sb.get("coupon", promo["promotion"]["coupon"], param=param)
    check_coupon(sb, coupon, currency, param)
    return coupon


def parse_discounts(sb: Sandbox, entries: Sequence[Any], *, customer: Obj | None,
                    currency: str | None, subtotal: int | None,
                    keys: tuple[str, ...] = ("coupon", "promotion_code"),
                    most: int | None = None) -> list[Redemption]:
    """`discounts[]` as the API takes it, each `{coupon}` or `{promotion_code}`, checked."""
    if most is not None and len(entries) > most:
        raise invalid(f"You may only specify {most} discount(s).", "discounts")
    out: list[Redemption] = []
    for i, entry in enumerate(entries):
        base = f"discounts[{i}]"
        if not isinstance(entry, dict):
            raise invalid("Invalid discounts: must be a list of objects", base)
        given = [k for k in keys if entry.get(k) not in (None, "")]
        if len(given) != 1:
            raise invalid(f"You must specify exactly one of {', '.join(keys)} in each "
                          "discount.", base, code="parameter_missing" if not given
                          else "parameter_invalid")
        key = given[0]
        param = f"{base}[{key}]"
        if key == "coupon":
            coupon = sb.get("coupon", str(entry[key]), param=param)
            check_coupon(sb, coupon, currency, param)
            out.append(Redemption(coupon))
        else:
            promo = sb.get("promotion_code", str(entry[key]), "promotion code", param=param)
            out.append(Redemption(check_promotion_code(sb, promo, customer, currency,
                                                       subtotal, param), promo))
    if len({r.coupon["id"] for r in out}) != len(out):
        raise invalid("The same coupon cannot be applied twice.", "discounts")
    return out


def redeem(sb: Sandbox, redemption: Redemption, customer: Obj | None, start: int, *,
           subscription: str | None = None, invoice: str | None = None,
           checkout_session: str | None = None) -> Obj:
    """Create the discount object and count the redemption on the coupon and the code."""
    coupon, promo = redemption.coupon, redemption.promotion_code
    months = coupon["duration_in_months"]
    end = add_intervals(start, "month", int(months)) \
        if coupon["duration"] == "repeating" and months else None
    discount: Obj = {
        "id": new_id("di"), "object": "discount", "checkout_session": checkout_session,
        "customer": customer["id"] if customer else None, "customer_account": None,
        "end": end, "invoice": invoice, "invoice_item": None,
        "promotion_code": promo["id"] if promo else None,
        "source": {"coupon": coupon["id"], "type": "coupon"}, "start": start,
        "subscription": subscription, "subscription_item": None, "_applied": 0,
        # The terms as redeemed: a discount keeps applying after its coupon is deleted.
        "_coupon": sb.snapshot(coupon),
    }
    sb.store.put(discount)
    for counted, kind in ((coupon, "coupon"), (promo, "promotion_code")):
        if counted is None:
            continue
        stored = sb.get(kind, counted["id"])
        before = sb.snapshot(stored)
        stored["times_redeemed"] += 1
        sb.store.put(stored)
        if kind == "coupon":
            stored["valid"] = is_valid(sb, stored)
        sb.emit(f"{kind}.updated", stored, before)
    return discount


def active_on(sb: Sandbox, discount_ids: Sequence[str], at: int) -> list[Obj]:
    """The discounts that still apply to an invoice created at `at`."""
    out = []
    for did in discount_ids:
        d = sb.store.get("discount", did)
        if d is None:
            continue
        duration = d["_coupon"]["duration"]
        if duration == "once" and d["_applied"]:
            continue
        if d["end"] is not None and at >= d["end"]:
            continue
        out.append(d)
    return out


def percent_of(amount: int, percent: int | float) -> int:
    """`amount × percent / 100` rounded half up to the minor unit, in integers."""
    exact = Decimal(amount) * Decimal(str(percent)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainders first), exactly."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def line_discounts(coupon: Obj, currency: str, remaining: Sequence[int]) -> list[int]:
    """What one coupon takes off each line, given what each line still costs."""
    if coupon["percent_off"] is not None:
        return [percent_of(r, coupon["percent_off"]) if r > 0 else 0 for r in remaining]
    if coupon["currency"] != currency:
        return [0] * len(remaining)
    positive = [max(0, r) for r in remaining]
    return spread(min(int(coupon["amount_off"]), sum(positive)), positive)


def apply_to_invoice(sb: Sandbox, inv: Obj, discounts: Sequence[Obj]) -> None:
    """Discount the invoice's discountable lines and recompute its totals."""
    lines = inv["lines"]["data"]
    remaining = [int(li["amount"]) if li.get("discountable", True) else 0 for li in lines]
    for li in lines:
        li["discount_amounts"], li["discounts"] = [], []
    totals: list[Obj] = []
    for d in discounts:
        taken = line_discounts(d["_coupon"], inv["currency"], remaining)
        for li, amount in zip(lines, taken, strict=True):
            if li.get("discountable", True):
                li["discount_amounts"].append({"amount": amount, "discount": d["id"]})
                li["discounts"].append(d["id"])
        had_something = any(r > 0 for r in remaining)
        remaining = [r - t for r, t in zip(remaining, taken, strict=True)]
        totals.append({"amount": sum(taken), "discount": d["id"]})
        if had_something:
            d["_applied"] += 1  # a $0 trial invoice does not use up a `once` coupon
            sb.store.put(d)
    inv["discounts"] = [d["id"] for d in discounts]
    inv["total_discount_amounts"] = totals
    subtotal = sum(int(li["amount"]) for li in lines)
    total = subtotal - sum(int(t["amount"]) for t in totals)
    inv.update(subtotal=subtotal, subtotal_excluding_tax=subtotal, total=total,
               total_excluding_tax=total, amount_due=max(0, total),
               amount_remaining=max(0, total) - inv["amount_paid"])


def discount_subscription_invoice(sb: Sandbox, inv: Obj, sub: Obj, *,
                                  preview: bool = False, at: int | None = None) -> bool:
    """Apply the subscription's discounts that still run to its new invoice; drop the ones
    that ended (a used `once`, a `repeating` past its end) from the subscription. Answers
    whether the subscription changed. `at` is when the invoice's period starts (default:
    now), which decides whether a repeating discount still runs."""
    ids = list(sub.get("discounts") or [])
    if not ids:
        return False
    live = active_on(sb, ids, sb.now(sub) if at is None else at)
    if preview:
        saved = {d["id"]: d["_applied"] for d in live}
        apply_to_invoice(sb, inv, live)
        for d in live:
            d["_applied"] = saved[d["id"]]
            sb.store.put(d)
        return False
    kept = [d["id"] for d in live]
    if live:
        apply_to_invoice(sb, inv, live)
        sb.store.put(inv)
    if kept != ids:
        sub["discounts"] = kept
        return True
    return False


# --- Checkout Sessions -----------------------------------------------------------------------


def price_totals(sb: Sandbox, cs: Obj) -> None:
    """The session's `amount_total` and `total_details.amount_discount` from its items, its
    discounts and its trial (a trial charges nothing today)."""
    if not cs["_items"]:
        return
    amounts = [due_now(sb.get("price", pid), int(q)) for pid, q in cs["_items"]]
    taken = [0] * len(amounts)
    for entry in cs["discounts"]:
        coupon = sb.get("coupon", entry["coupon"])
        off = line_discounts(coupon, cs["currency"], [a - t for a, t in zip(amounts, taken,
                                                                              strict=True)])
        taken = [t + o for t, o in zip(taken, off, strict=True)]
    discount = 0 if cs["_subscription_data"].get("trial_period_days") else sum(taken)
    cs["amount_total"] = (0 if cs["_subscription_data"].get("trial_period_days")
                          else sum(amounts) - discount)
    cs["total_details"]["amount_discount"] = discount
    cs["_line_discounts"] = taken


def add_promotion_code(sb: Sandbox, cs: Obj, code: str) -> None:
    """The hosted page's promotion-code field (`allow_promotion_codes`): the customer's code,
    checked as Stripe checks it, becomes the session's discount."""
    wanted = code.strip().lower()
    promo = next((pc for pc in sb.store.all("promotion_code")
                  if pc["code"].lower() == wanted and pc["active"]), None)
    if promo is None:
        raise StripeError(400, "invalid_request_error", "This code is invalid.",
                          code="promotion_code_invalid", param="promotion_code")
    customer = sb.store.get("customer", cs["customer"]) if cs["customer"] else None
    subtotal = int(cs["amount_subtotal"] or 0)
    coupon = check_promotion_code(sb, promo, customer, cs["currency"], subtotal,
                                  "promotion_code")
    cs["discounts"] = [Redemption(coupon, promo).wire()]
    price_totals(sb, cs)
    sb.store.put(cs)
