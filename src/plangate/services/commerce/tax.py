"""Tax: what every checkout asks of Stripe Tax, a customer's billing details for tax (its
address, the name invoices show, its tax ids), kept on its Stripe customer, and the tax on
invoices.

Billing details are Stripe's, like cards: read from Stripe on demand and written to it, with
no copy in plangate. A write checks everything before it sends anything; a tax id Stripe
refuses undoes the tax ids the same write added, so a refused write changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from plangate.domain.countries import COUNTRIES
from plangate.errors import InvalidRequest
from plangate.gateways.base import GatewayError, StripeDict
from plangate.gateways.stripe_tax import tax_id_types
from plangate.services.commerce.billing import Deps, gateway_call, money_fields, stripe_customer_id
from plangate.services.commerce.payment_errors import from_gateway, gateway_idempotency_key
from plangate.services.commerce.stripe_customers import ensure_stripe_customer
from plangate.services.entitlements.customers import CustomerRef
from plangate.settings import Settings

ADDRESS_FIELDS = ("line1", "line2", "city", "postal_code", "state", "country")


def tax_params(settings: Settings) -> dict[str, Any]:
    """The Checkout Session parameters the tax settings ask for. plangate always passes an
    existing Stripe customer, so what the page collects is saved on it (`customer_update`)."""
    params: dict[str, Any] = {}
    update: dict[str, str] = {}
    if settings.stripe_automatic_tax:
        params["automatic_tax"] = {"enabled": True}
        update["address"] = "auto"
    if settings.stripe_billing_address_collection == "required":
        params["billing_address_collection"] = "required"
        update["address"] = "auto"
    if settings.stripe_tax_id_collection:
        params["tax_id_collection"] = {"enabled": True}
        update["name"] = "auto"
    if update:
        params["customer_update"] = update
    return params


@dataclass(frozen=True)
class BillingDetails:
    """What `PUT {c}/billing-details` asks for: the address (None removes it), the name
    invoices show (None keeps the current one), and the complete list of tax ids."""

    address: dict[str, str | None] | None
    name: str | None
    tax_ids: list[tuple[str, str]]


def check_details(details: BillingDetails) -> None:
    if details.address is not None:
        country = (details.address.get("country") or "").upper()
        if country not in COUNTRIES:
            raise InvalidRequest(
                "country_invalid",
                f"{details.address.get('country')!r} is not a two-letter ISO 3166 country code",
                param="address.country",
            )
    known = tax_id_types()
    for i, (type_, _) in enumerate(details.tax_ids):
        if type_ not in known:
            raise InvalidRequest(
                "tax_id_type_invalid",
                f"{type_!r} is not a tax id type Stripe knows (eu_vat, gb_vat, us_ein, ...)",
                param=f"tax_ids.{i}.type",
            )


def _view(customer: StripeDict | None, tax_ids: list[StripeDict]) -> dict[str, Any]:
    address = (customer or {}).get("address")
    return {
        "object": "billing_details",
        "has_payment_customer": customer is not None,
        "name": (customer or {}).get("name"),
        "address": {k: address.get(k) for k in ADDRESS_FIELDS} if address else None,
        "tax_exempt": (customer or {}).get("tax_exempt") or "none",
        "tax_ids": [
            {
                "id": t.get("id"),
                "type": t.get("type"),
                "value": t.get("value"),
                "country": t.get("country"),
                "verification": ((t.get("verification") or {}).get("status")),
            }
            for t in reversed(tax_ids)  # oldest first, as they were added
        ],
    }


def read_billing_details(deps: Deps, ref: CustomerRef) -> dict[str, Any]:
    customer_id = stripe_customer_id(deps.db, ref)
    if customer_id is None or deps.gateway.name != "stripe":
        return _view(None, [])
    customer = gateway_call(lambda: deps.gateway.retrieve_customer(customer_id))
    tax_ids = list(gateway_call(lambda: deps.gateway.list_tax_ids(customer_id)))
    return _view(customer, tax_ids)


def write_billing_details(
    deps: Deps, ref: CustomerRef, details: BillingDetails, scope: str | None, now: datetime
) -> dict[str, Any]:
    """Set the customer's billing details on its Stripe customer (made if it has none)."""
    check_details(details)
    gateway = deps.gateway
    customer_id = gateway_call(
        lambda: ensure_stripe_customer(
            deps.db, gateway, ref, now, test_clock=deps.settings.stripe_test_clock or None
        )
    )
    existing = list(gateway_call(lambda: gateway.list_tax_ids(customer_id)))
    have = {(str(t.get("type")), str(t.get("value"))): str(t.get("id")) for t in existing}
    created: list[str] = []
    for i, (type_, value) in enumerate(details.tax_ids):
        if (type_, value.upper()) in have or (type_, value) in have:
            continue
        try:
            made = gateway.create_tax_id(
                customer_id,
                type_,
                value,
                idempotency_key=gateway_idempotency_key(scope, f"tax-id-{i}"),
            )
        except GatewayError as exc:
            for tax_id in created:
                gateway_call(partial(gateway.delete_tax_id, customer_id, tax_id))
            if exc.http_status == 400:
                raise InvalidRequest(
                    "tax_id_invalid", f"Stripe refused the tax id: {exc}", param=f"tax_ids.{i}"
                ) from exc
            raise from_gateway(exc) from exc
        created.append(str(made["id"]))
        have[(type_, str(made.get("value")))] = str(made["id"])
    params: dict[str, Any] = {
        "address": {k: v or "" for k, v in _address(details.address).items()}
        if details.address
        else ""
    }
    if details.name is not None:
        params["name"] = details.name
    customer = gateway_call(
        lambda: gateway.update_customer(
            customer_id, params, idempotency_key=gateway_idempotency_key(scope, "billing")
        )
    )
    wanted = {(t, v.upper()) for t, v in details.tax_ids} | set(details.tax_ids)
    for key, tax_id in list(have.items()):
        if key not in wanted and tax_id not in created:
            gateway_call(partial(gateway.delete_tax_id, customer_id, tax_id))
            del have[key]
    return _view(customer, list(gateway_call(lambda: gateway.list_tax_ids(customer_id))))


def _address(address: dict[str, str | None] | None) -> dict[str, str | None]:
    given = address or {}
    out = {k: given.get(k) for k in ADDRESS_FIELDS}
    out["country"] = (out["country"] or "").upper() or None
    return out


def invoice_tax_fields(invoice: StripeDict, currency: str) -> dict[str, Any]:
    """An invoice's tax as the API shows it: the total, what the invoice comes to without
    it, and each tax (Stripe's `total_taxes`)."""
    taxes = [t for t in invoice.get("total_taxes") or [] if isinstance(t, dict)]
    excluding = invoice.get("total_excluding_tax")
    return {
        **money_fields(sum(int(t.get("amount") or 0) for t in taxes), currency, "total_tax"),
        **money_fields(
            int(invoice.get("total") or 0) if excluding is None else int(excluding),
            currency,
            "total_excluding_tax",
        ),
        "taxes": [
            {
                **money_fields(int(t.get("amount") or 0), currency, "amount"),
                **money_fields(int(t.get("taxable_amount") or 0), currency, "taxable_amount"),
                "inclusive": t.get("tax_behavior") == "inclusive",
                "taxability_reason": t.get("taxability_reason"),
                "tax_rate_id": (t.get("tax_rate_details") or {}).get("tax_rate"),
            }
            for t in taxes
        ],
    }
