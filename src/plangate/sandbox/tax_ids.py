"""Customer tax ids (`customers/{id}/tax_ids`) and the customer's tax fields.

Types are Stripe's (read from the `stripe` package's parameters, so the list follows the SDK).
A few common types have their value's format checked (`eu_vat`, `gb_vat`, `us_ein`, `au_abn`,
`ch_vat`); other values only need to be 1 to 50 letters, digits and separators.

Verification is deterministic. `eu_vat`, `gb_vat` and `au_abn` are verified, the others
answer `unavailable`. A verified type is created `pending` (that is what the create call
answers and `customer.tax_id.created` carries); a `customer.tax_id.updated` follows at once
with the outcome: a value containing `000000000` becomes `verified`, one containing
`111111111` becomes `unverified`, any other stays `pending`.
"""

from __future__ import annotations

import re
import typing
from functools import cache
from typing import TYPE_CHECKING, Any

import stripe.params

from .expansion import INCLUDABLE
from .router import PAGE, ApiRequest, Router
from .tax_rates import COUNTRIES
from .wire import (
    Obj,
    Params,
    get_enum,
    get_list,
    get_str,
    invalid,
    list_object,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()
VERIFIED_TYPES = frozenset({"eu_vat", "gb_vat", "au_abn"})
_EU_PREFIXES = "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI"
_EU = _EU_PREFIXES.split()
_FORMATS = {
    "eu_vat": re.compile(rf"^({'|'.join(_EU)})[0-9A-Z+*]{{2,12}}$"),
    "gb_vat": re.compile(r"^GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})$"),
    "us_ein": re.compile(r"^\d{2}-?\d{7}$"),
    "au_abn": re.compile(r"^\d{11}$"),
    "ch_vat": re.compile(r"^CHE-?\d{3}\.?\d{3}\.?\d{3} ?(MWST|TVA|IVA)$"),
}
_ANY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z .\-/]{0,49}$")


@cache
def tax_id_types() -> tuple[str, ...]:
    """The `type`s Stripe accepts, from the SDK's typed parameters."""
    annotation = stripe.params.CustomerCreateTaxIdParams.__annotations__["type"]
    literal = next(a for a in typing.get_args(annotation)
                   if typing.get_origin(a) is typing.Literal)
    return tuple(sorted(typing.get_args(literal)))


def _country_of(type_: str, value: str) -> str | None:
    if type_ == "eu_vat":
        return {"EL": "GR", "XI": "GB"}.get(value[:2], value[:2])
    code = type_[:2].upper()
    return code if code in COUNTRIES else None


def _outcome(type_: str, value: str) -> str:
    if type_ not in VERIFIED_TYPES:
        return "unavailable"
    if "000000000" in value:
        return "verified"
    return "unverified" if "111111111" in value else "pending"


def check_tax_id(p: Params, base: str = "") -> tuple[str, str]:
    """A tax id's `{type, value}`, validated (Stripe's 400 `tax_id_invalid` for a bad value)."""
    type_param, value_param = (f"{base}[type]", f"{base}[value]") if base else ("type", "value")
    type_ = get_enum(p, "type", tax_id_types(), required=True, param=type_param) or ""
    raw = get_str(p, "value", required=True, param=value_param) or ""
    value = raw.replace(" ", "").upper() if type_ in _FORMATS and type_ != "ch_vat" else raw
    if not _FORMATS.get(type_, _ANY).match(value):
        raise invalid(f"Invalid value for {type_}.", value_param, code="tax_id_invalid")
    return type_, value


def add_tax_id(sb: Sandbox, customer: Obj, type_: str, value: str) -> Obj:
    """Create the customer's tax id, with its events; answers it as created (`pending`
    where the type is verified)."""
    if len(tax_ids_of(sb, customer["id"])) >= 25:
        raise invalid("A customer can have at most 25 tax ids.", "value")
    outcome = _outcome(type_, value)
    tax_id: Obj = {
        "id": new_id("txi"), "object": "tax_id", "country": _country_of(type_, value),
        "created": sb.now(customer), "customer": customer["id"], "customer_account": None,
        "livemode": False, "owner": {"customer": customer["id"], "customer_account": None,
                                     "type": "customer"},
        "type": type_, "value": value,
        "verification": {"status": "pending" if type_ in VERIFIED_TYPES else outcome,
                         "verified_address": None, "verified_name": None},
    }
    sb.store.put(tax_id)
    sb.emit("customer.tax_id.created", tax_id)
    answer = sb.snapshot(tax_id)
    if tax_id["verification"]["status"] != outcome:
        before = sb.snapshot(tax_id)
        tax_id["verification"]["status"] = outcome
        if outcome == "verified":
            tax_id["verification"]["verified_name"] = customer.get("name")
        sb.store.put(tax_id)
        sb.emit("customer.tax_id.updated", tax_id, before)
    return answer


def tax_ids_of(sb: Sandbox, customer_id: str) -> list[Obj]:
    return [t for t in sb.store.all("tax_id") if t["customer"] == customer_id]


def check_customer_tax(p: Params) -> list[tuple[str, str]]:
    """A customer's `tax_exempt` and `tax_id_data[]`, checked before anything is stored."""
    get_enum(p, "tax_exempt", ("exempt", "none", "reverse"))
    out = []
    for i, entry in enumerate(get_list(p, "tax_id_data")):
        if not isinstance(entry, dict):
            raise invalid("Invalid tax_id_data: must be a list of objects", f"tax_id_data[{i}]")
        out.append(check_tax_id(entry, f"tax_id_data[{i}]"))
    return out


def set_tax_exempt(cus: Obj, p: Params) -> None:
    if "tax_exempt" in p:
        cus["tax_exempt"] = get_enum(p, "tax_exempt", ("exempt", "none", "reverse")) or "none"


def _customer(sb: Sandbox, id_: str) -> Obj:
    return sb.get("customer", id_)


def _own(sb: Sandbox, customer: str, id_: str) -> Obj:
    tax_id = sb.store.get("tax_id", id_)
    if tax_id is None or tax_id["customer"] != customer:
        sb.get("tax_id", "", "tax id")  # raises Stripe's 404
    assert tax_id is not None
    return tax_id


@router.post("/v1/customers/{customer}/tax_ids", "CustomerCreateTaxIdParams", ("type", "value"))
def create_tax_id(sb: Sandbox, req: ApiRequest, customer: str) -> Obj:
    cus = _customer(sb, customer)
    return add_tax_id(sb, cus, *check_tax_id(req.params))


@router.get("/v1/customers/{customer}/tax_ids/{id}", "CustomerRetrieveTaxIdParams")
def retrieve_tax_id(sb: Sandbox, req: ApiRequest, customer: str, id: str) -> Obj:
    _customer(sb, customer)
    return _own(sb, customer, id)


@router.delete("/v1/customers/{customer}/tax_ids/{id}", "CustomerDeleteTaxIdParams")
def delete_tax_id(sb: Sandbox, req: ApiRequest, customer: str, id: str) -> Obj:
    _customer(sb, customer)
    tax_id = _own(sb, customer, id)
    sb.emit("customer.tax_id.deleted", tax_id)
    sb.store.remove("tax_id", id)
    return {"id": id, "object": "tax_id", "deleted": True}


@router.get("/v1/customers/{customer}/tax_ids", "CustomerListTaxIdsParams", PAGE)
def list_tax_ids(sb: Sandbox, req: ApiRequest, customer: str) -> Obj:
    _customer(sb, customer)
    return paginate(tax_ids_of(sb, customer), req.params, f"/v1/customers/{customer}/tax_ids")


def _customer_tax(sb: Sandbox, cus: Obj) -> Any:
    """`customer.tax` (includable): where automatic tax places the customer."""
    from .taxes import rate_for

    address = cus.get("address") or {}
    code = address.get("country")
    status = "unrecognized_location" if code not in COUNTRIES else (
        "supported" if rate_for(code) is not None else "not_collecting")
    return {"automatic_tax": status, "ip_address": None, "provider": "stripe",
            "location": {"country": code, "source": "billing_address",
                         "state": address.get("state")} if code in COUNTRIES else None}


INCLUDABLE[("customer", "tax_ids")] = lambda sb, cus: list_object(
    tax_ids_of(sb, cus["id"]), f"/v1/customers/{cus['id']}/tax_ids")
INCLUDABLE[("customer", "tax")] = _customer_tax
