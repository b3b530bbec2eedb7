"""Tax on Checkout Sessions: `automatic_tax`, `billing_address_collection`,
`tax_id_collection` and `customer_update`.

The hosted page asks for a billing address when `billing_address_collection=required`, or
when automatic tax is on and the customer has none to use (no customer yet, or
`customer_update[address]=auto`; the customer's address is filled in, and used when the
form leaves the country out); with `tax_id_collection[enabled]` it asks for a business
name and a tax id. On completion the address and name are saved on a new customer, or on an
existing one where `customer_update` says `auto`; the tax id is added to the customer. The
session's `amount_total` includes the tax automatic tax computes (see `taxes`), as soon as
the customer's country is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from .tax_ids import add_tax_id, check_tax_id
from .tax_rates import COUNTRIES
from .taxes import country_of, line_taxes, rate_for
from .wire import Obj, Params, StripeError, get_bool, get_dict, get_enum, invalid

if TYPE_CHECKING:
    from .core import Sandbox

IMPLEMENTS = ("automatic_tax.enabled", "customer_update.address", "customer_update.name",
              "tax_id_collection.enabled")
# The tax id types the page offers.
PAGE_TAX_ID_TYPES = ("eu_vat", "gb_vat", "ch_vat", "au_abn", "us_ein")
_ADDRESS = ("line1", "city", "postal_code", "country")


def configure(sb: Sandbox, cs: Obj, p: Params, customer: Obj | None) -> None:
    """Check the session's tax parameters and record them on it."""
    automatic = bool(get_bool(get_dict(p, "automatic_tax"), "enabled", "automatic_tax[enabled]"))
    update = get_dict(p, "customer_update")
    choices = {k: get_enum(update, k, ("auto", "never"), param=f"customer_update[{k}]")
               or "never" for k in ("address", "name")}
    if update and customer is None:
        raise invalid("customer_update can only be used with customer.", "customer_update")
    collect_ids = bool(get_bool(get_dict(p, "tax_id_collection"), "enabled",
                                "tax_id_collection[enabled]"))
    if collect_ids and customer is not None and choices["name"] != "auto":
        raise invalid("tax_id_collection requires customer_update[name] to be 'auto' when "
                      "using an existing customer.", "customer_update[name]")
    if automatic and customer is not None and country_of(customer) is None \
            and choices["address"] != "auto":
        raise invalid("Automatic tax calculation in Checkout requires a valid address on the "
                      "Customer. Add a valid address to the Customer or set "
                      "`customer_update[address]` to 'auto' to save the address entered in "
                      "Checkout to the Customer.", "automatic_tax[enabled]",
                      code="customer_tax_location_invalid")
    get_enum(p, "billing_address_collection", ("auto", "required"))
    cs["automatic_tax"] = {"enabled": automatic,
                           "liability": {"type": "self"} if automatic else None,
                           "provider": "stripe" if automatic else None, "status": None}
    cs["tax_id_collection"] = {"enabled": collect_ids, "required": "never"}
    cs["_customer_update"] = choices
    totals(sb, cs, country_of(customer) if customer else None)


def asks_address(sb: Sandbox, cs: Obj) -> bool:
    if cs["billing_address_collection"] == "required":
        return True
    if not cs["automatic_tax"]["enabled"]:
        return False
    customer = sb.store.get("customer", cs["customer"]) if cs["customer"] else None
    return customer is None or cs["_customer_update"]["address"] == "auto"


def totals(sb: Sandbox, cs: Obj, country: str | None) -> None:
    """Add automatic tax to the session's amounts, once the country is known."""
    if not cs["automatic_tax"]["enabled"]:
        return
    cs["automatic_tax"]["status"] = "complete" if country else "requires_location_inputs"
    if not cs["_items"] or not country:
        return
    trial = cs["_subscription_data"].get("trial_period_days")
    taken = cs.get("_line_discounts") or [0] * len(cs["_items"])
    pct = rate_for(country)
    line_tax: list[list[int]] = []
    exclusive = 0
    for (price_id, qty), off in zip(cs["_items"], taken, strict=True):
        price = sb.get("price", price_id)
        base = 0 if trial else int(price["unit_amount"]) * int(qty) - int(off)
        inclusive = price.get("tax_behavior") == "inclusive"
        taxes = line_taxes(base, [(None, pct, inclusive)], None) if pct else []
        added = 0 if inclusive else sum(t["amount"] for t in taxes)
        line_tax.append([sum(t["amount"] for t in taxes), added])
        exclusive += added
    cs["_line_taxes"] = line_tax
    cs["total_details"]["amount_tax"] = sum(t for t, _ in line_tax)
    cs["amount_total"] = (0 if trial else int(cs["amount_subtotal"])
                          - int(cs["total_details"]["amount_discount"])) + exclusive


def collect(sb: Sandbox, cs: Obj, form: Mapping[str, str]) -> Obj:
    """What the page collected, checked: `{address, business_name, tax_id}`."""
    out: Obj = {"address": None, "business_name": None, "tax_id": None}
    if asks_address(sb, cs):
        address = {k: (form.get(f"address_{k}") or "").strip() or None for k in _ADDRESS}
        saved = _customer_address(sb, cs)
        if address["country"] is None and saved is not None:
            address = {k: saved.get(k) for k in _ADDRESS}  # the page showed it filled in
        code = (address["country"] or "").upper()
        if code not in COUNTRIES:
            raise StripeError(400, "invalid_request_error",
                              "Please choose the country of your billing address.",
                              code="billing_address_invalid", param="address_country")
        out["address"] = {**address, "country": code, "line2": None, "state": None}
    if cs["tax_id_collection"]["enabled"] and (form.get("tax_id_value") or "").strip():
        out["business_name"] = (form.get("business_name") or "").strip() or None
        out["tax_id"] = check_tax_id({"type": form.get("tax_id_type") or "",
                                      "value": form["tax_id_value"].strip()})
    return out


def save(sb: Sandbox, cs: Obj, customer: Obj | None, collected: Obj, created: bool) -> None:
    """Keep what was collected: on the customer (a new one, or where `customer_update`
    allows), in `customer_details`, and in the session's totals."""
    if customer is not None:
        before = sb.snapshot(customer)
        if collected["address"] and (created or cs["_customer_update"]["address"] == "auto"):
            customer["address"] = collected["address"]
        if collected["business_name"] and (created or cs["_customer_update"]["name"] == "auto"):
            customer["name"] = collected["business_name"]
        sb.store.put(customer)
        sb.emit("customer.updated", customer, before)
        if collected["tax_id"]:
            add_tax_id(sb, customer, *collected["tax_id"])
    address = collected["address"] or (customer or {}).get("address")
    code = (address or {}).get("country")
    totals(sb, cs, code if code in COUNTRIES else None)
    cs["_collected"] = {
        "address": address, "business_name": collected["business_name"],
        "tax_ids": [{"type": t, "value": v} for t, v in [collected["tax_id"]]]
        if collected["tax_id"] else [],
        "tax_exempt": (customer or {}).get("tax_exempt") or "none"}


def _customer_address(sb: Sandbox, cs: Obj) -> Obj | None:
    customer = sb.store.get("customer", cs["customer"]) if cs["customer"] else None
    return customer.get("address") if customer and country_of(customer) else None


def page_fields(sb: Sandbox, cs: Obj, values: Mapping[str, str]) -> str:
    """The address and tax id fields of the hosted page, as it needs them (the customer's
    address filled in, as Stripe does)."""
    html = ""
    saved = _customer_address(sb, cs) or {}
    values = {**{f"address_{k}": str(saved.get(k) or "") for k in _ADDRESS}, **values}
    if asks_address(sb, cs):
        labels = {"line1": "Address", "city": "City", "postal_code": "Postal code",
                  "country": "Country (two-letter code, e.g. DE)"}
        html += "<fieldset><legend>Billing address</legend>" + "".join(
            f"<label for='address_{k}'>{label}</label><input id='address_{k}' "
            f"name='address_{k}' data-testid='address-{k}' "
            f"value='{escape(values.get(f'address_{k}', ''))}'"
            f"{' required' if k == 'country' else ''}>"
            for k, label in labels.items()) + "</fieldset>"
    if cs["tax_id_collection"]["enabled"]:
        options = "".join(f"<option value='{t}'>{t}</option>" for t in PAGE_TAX_ID_TYPES)
        html += ("<fieldset><legend>Purchasing as a business (optional)</legend>"
                 "<label for='business_name'>Business name</label><input id='business_name' "
                 f"name='business_name' data-testid='business-name' "
                 f"value='{escape(values.get('business_name', ''))}'>"
                 "<label for='tax_id_type'>Tax ID type</label><select id='tax_id_type' "
                 f"name='tax_id_type' data-testid='tax-id-type'>{options}</select>"
                 "<label for='tax_id_value'>Tax ID</label><input id='tax_id_value' "
                 "name='tax_id_value' data-testid='tax-id-value' "
                 f"value='{escape(values.get('tax_id_value', ''))}'></fieldset>")
    return html


def subscription_tax(cs: Obj) -> Obj:
    return {"automatic": cs["automatic_tax"]["enabled"], "rates": [], "items": []}
