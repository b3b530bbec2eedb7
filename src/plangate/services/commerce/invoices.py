"""The customer's invoices, read from Stripe."""

from __future__ import annotations

from typing import Any

from plangate.errors import InvalidRequest
from plangate.gateways.base import GatewayError, GatewayNotFound
from plangate.services.commerce.billing import Deps, iso_time, money_fields, stripe_customer_id
from plangate.services.commerce.payment_errors import from_gateway
from plangate.services.entitlements.customers import CustomerRef


def invoice_summary(invoice: Any) -> dict[str, Any] | None:
    """An invoice as the API shows it: integer minor units and decimal strings."""
    if not isinstance(invoice, dict):
        return None
    currency = str(invoice.get("currency") or "usd")
    amounts: dict[str, Any] = {}
    for name in ("total", "amount_due", "amount_paid", "amount_remaining"):
        amounts.update(money_fields(int(invoice.get(name) or 0), currency, name))
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
    }

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

