"""The customer's invoices, read from Stripe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from plangate.errors import InvalidRequest
from plangate.gateways.base import GatewayError, GatewayNotFound
from plangate.services.commerce.billing import Deps, iso_time, money_fields, stripe_customer_id
from plangate.services.commerce.payment_errors import from_gateway
from plangate.services.commerce.tax import invoice_tax_fields
from plangate.services.entitlements.customers import CustomerRef


def invoice_summary(invoice: Any) -> dict[str, Any] | None:
    """An invoice as the API shows it: integer minor units and decimal strings."""
    if not isinstance(invoice, dict):
        return None
    currency = str(invoice.get("currency") or "usd")
    amounts: dict[str, Any] = {}
    for name in ("subtotal", "total", "amount_due", "amount_paid", "amount_remaining"):
        amounts.update(money_fields(int(invoice.get(name) or 0), currency, name))
    discounts = invoice_discounts(invoice, currency)
    amounts.update(
        money_fields(sum(d["amount"] for d in discounts), currency, "total_discount")
    )
    return {
        "id": invoice.get("id"),
        "number": invoice.get("number"),
        "status": invoice.get("status"),
        "billing_reason": invoice.get("billing_reason"),
        "currency": currency,
        **amounts,
        "hosted_invoice_url": invoice.get("hosted_invoice_url"),
        "created": iso_time(invoice.get("created")),
        "period_start": iso_time(invoice.get("period_start")),
        "period_end": iso_time(invoice.get("period_end")),
        "discounts": discounts,
        **invoice_tax_fields(invoice, currency),
    }


def invoice_discounts(invoice: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    """Each discount on the invoice: what it took off, its coupon's name and terms, and the
    promotion code it was redeemed with (from the expanded `discounts`)."""
    expanded = {
        str(d.get("id")): d for d in invoice.get("discounts") or [] if isinstance(d, dict)
    }
    out = []
    for entry in invoice.get("total_discount_amounts") or []:
        discount = entry.get("discount")
        did = str(discount.get("id") if isinstance(discount, dict) else discount)
        found = expanded.get(did, {})
        coupon = (found.get("source") or {}).get("coupon")
        coupon = coupon if isinstance(coupon, dict) else {"id": coupon}
        promo = found.get("promotion_code")
        out.append(
            {
                "id": did,
                **money_fields(int(entry.get("amount") or 0), currency, "amount"),
                "coupon_id": coupon.get("id"),
                "name": coupon.get("name"),
                "percent_off": _percent(coupon.get("percent_off")),
                "promotion_code": promo.get("code") if isinstance(promo, dict) else None,
                "end": iso_time(found.get("end")),
            }
        )
    return out


def _percent(value: Any) -> str | None:
    """Stripe's percent_off (a JSON number with at most two decimals) as a decimal string."""
    if value is None:
        return None
    return format(Decimal(str(value)).normalize(), "f")

def list_invoices(deps: Deps, ref: CustomerRef, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the customer's invoices from Stripe, newest first. Drafts are left out:
    their amounts may still change and they have no page to pay them on."""
    customer = stripe_customer_id(deps.db, ref)
    if customer is None:
        return {"data": [], "next_cursor": None}
    try:
        page, has_more = deps.gateway.list_invoices(customer, limit=limit, starting_after=cursor)
    except GatewayNotFound as exc:
        raise InvalidRequest("cursor_invalid", "unknown cursor", param="cursor") from exc
    except GatewayError as exc:
        raise from_gateway(exc) from exc
    data = [invoice_summary(i) for i in page if i.get("status") != "draft"]
    next_cursor = str(page[-1]["id"]) if has_more and page else None
    return {"data": data, "next_cursor": next_cursor}

