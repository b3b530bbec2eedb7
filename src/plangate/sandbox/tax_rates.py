"""Tax rates: Stripe's `tax_rate` objects, created by hand or for automatic tax.

A rate's `percentage` is taken as a decimal (`"19"`, `"7.25"`, at most four decimals, 0 to
100) and answered as Stripe answers it, a JSON number. `inclusive` says whether prices
already contain the tax. The percentage and `inclusive` cannot change after creation (Stripe
does not take them on update). Rates that automatic tax creates for itself are retrievable
but left out of the list, as they are not the account's own.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    Params,
    apply_metadata,
    get_bool,
    get_enum,
    get_str,
    invalid,
    match_created,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()

# ISO 3166-1 alpha-2, the codes Stripe accepts for `country`.
_ISO_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_ISO_CODES.split())
TAX_TYPES = ("amusement_tax", "communications_tax", "gst", "hst", "igst", "jct", "lease_tax",
             "pst", "qst", "retail_delivery_fee", "rst", "sales_tax", "service_tax", "vat")
_FIELDS = ("active", "country", "description", "display_name", "jurisdiction", "metadata",
           "state", "tax_type")


def country(p: Params, name: str, param: str | None = None) -> str | None:
    """A two-letter country code, upper-cased; an unknown one is Stripe's 400."""
    raw = get_str(p, name, param=param)
    if raw is None:
        return None
    code = raw.upper()
    if code not in COUNTRIES:
        raise invalid(f"Country '{raw}' is unknown. Try using a 2-character alphanumeric "
                      "country code instead, such as 'US', 'EG', or 'GB'. A full list of "
                      "country codes is available at https://stripe.com/docs/api#country_codes",
                      param or name, code="country_unsupported")
    return code


def wire_percentage(value: Decimal) -> int | float:
    """On the wire a percentage is a JSON number; a whole one stays an int."""
    return int(value) if value == value.to_integral_value() else float(value)


def percentage_of(rate: Obj) -> Decimal:
    return Decimal(str(rate["_percentage"]))


def _percentage(p: Params) -> Decimal:
    raw = get_str(p, "percentage", required=True) or ""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {raw}", "percentage") from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100) \
            or value != value.quantize(Decimal("0.0001")):
        raise invalid("Invalid percentage: must be between 0 and 100, with at most four "
                      "decimals.", "percentage")
    return value


def new_rate(sb: Sandbox, *, display_name: str, percentage: Decimal, inclusive: bool,
             country_code: str | None = None, jurisdiction: str | None = None,
             tax_type: str | None = None, automatic: bool = False) -> Obj:
    rate: Obj = {
        "id": new_id("txr"), "object": "tax_rate", "active": True, "country": country_code,
        "created": sb.real_now(), "description": None, "display_name": display_name,
        "effective_percentage": wire_percentage(percentage), "flat_amount": None,
        "inclusive": inclusive, "jurisdiction": jurisdiction, "jurisdiction_level": None,
        "livemode": False, "metadata": {}, "percentage": wire_percentage(percentage),
        "rate_type": "percentage", "state": None, "tax_type": tax_type,
        "_percentage": str(percentage), "_automatic": automatic,
    }
    return rate


def _set_fields(rate: Obj, p: Params) -> None:
    for key in ("description", "display_name", "jurisdiction", "state"):
        if key in p:
            rate[key] = get_str(p, key)
    if not rate["display_name"]:
        raise invalid("Missing required param: display_name.", "display_name",
                      code="parameter_missing")
    if "country" in p:
        rate["country"] = country(p, "country")
    if "tax_type" in p:
        rate["tax_type"] = get_enum(p, "tax_type", TAX_TYPES)
    if "active" in p:
        rate["active"] = bool(get_bool(p, "active"))
    apply_metadata(rate, p)


@router.post("/v1/tax_rates", "TaxRateCreateParams", (*_FIELDS, "inclusive", "percentage"))
def create_tax_rate(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    get_str(p, "display_name", required=True)
    inclusive = get_bool(p, "inclusive")
    if inclusive is None:
        raise invalid("Missing required param: inclusive.", "inclusive",
                      code="parameter_missing")
    rate = new_rate(sb, display_name="", percentage=_percentage(p), inclusive=inclusive)
    _set_fields(rate, p)
    sb.store.put(rate)
    sb.emit("tax_rate.created", rate)
    return rate


@router.get("/v1/tax_rates/{id}", "TaxRateRetrieveParams")
def retrieve_tax_rate(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("tax_rate", id, "tax rate")


@router.post("/v1/tax_rates/{id}", "TaxRateUpdateParams", _FIELDS)
def update_tax_rate(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    rate = sb.get("tax_rate", id, "tax rate")
    before = sb.snapshot(rate)
    _set_fields(rate, req.params)
    sb.store.put(rate)
    sb.emit("tax_rate.updated", rate, before)
    return rate


@router.get("/v1/tax_rates", "TaxRateListParams", (*PAGE, "active", "created", "inclusive"))
def list_tax_rates(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    active, inclusive = get_bool(p, "active"), get_bool(p, "inclusive")
    items = [r for r in sb.store.all("tax_rate")
             if not r["_automatic"] and match_created(r, p)
             and (active is None or r["active"] == active)
             and (inclusive is None or r["inclusive"] == inclusive)]
    return paginate(items, p, "/v1/tax_rates")


def resolve_rates(sb: Sandbox, ids: list[object], param: str) -> list[str]:
    """`tax_rates[]` / `default_tax_rates[]`: existing, active rates, at most five."""
    if len(ids) > 5:
        raise invalid("You may only specify up to 5 tax rates.", param)
    out = []
    for i, rid in enumerate(ids):
        rate = sb.get("tax_rate", str(rid), "tax rate", param=f"{param}[{i}]")
        if not rate["active"]:
            raise invalid(f"Tax rate {rid} is inactive and cannot be applied.", f"{param}[{i}]")
        out.append(str(rate["id"]))
    if len(set(out)) != len(out):
        raise invalid("The same tax rate cannot be applied twice.", param)
    return out
