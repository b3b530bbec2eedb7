"""Test cards, payment methods and setup intents."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    Params,
    StripeError,
    apply_metadata,
    get_bool,
    get_dict,
    get_enum,
    get_int,
    get_list,
    get_str,
    invalid,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()


@dataclass(frozen=True)
class TestCard:
    """How a test card number behaves (Stripe's documented test cards)."""

    number: str
    brand: str
    # Declined when a customer saves it (attach / setup) and when charged.
    decline: str | None = None
    # Saved fine, but every charge is declined with this code.
    charge_decline: str | None = None
    # "on_session": 3DS when the customer is present, off-session fine once set up;
    # "always": 3DS every time, off-session charges fail with authentication_required.
    authentication: Literal["none", "on_session", "always"] = "none"
    funding: str = "credit"
    # Charges succeed, then are disputed (`disputes.KINDS`).
    dispute: str | None = None


CARDS: dict[str, TestCard] = {c.number: c for c in (
    TestCard("4242424242424242", "visa"),
    TestCard("4000056655665556", "visa", funding="debit"),
    TestCard("5555555555554444", "mastercard"),
    TestCard("378282246310005", "amex"),
    TestCard("4000000000000002", "visa", decline="generic_decline"),
    TestCard("4000000000009995", "visa", charge_decline="insufficient_funds"),
    TestCard("4000000000009987", "visa", decline="lost_card"),
    TestCard("4000000000009979", "visa", decline="stolen_card"),
    TestCard("4000000000000069", "visa", decline="expired_card"),
    TestCard("4000000000000127", "visa", decline="incorrect_cvc"),
    TestCard("4000000000000341", "visa", charge_decline="generic_decline"),
    TestCard("4000002500003155", "visa", authentication="on_session"),
    TestCard("4000002760003184", "visa", authentication="always"),
    TestCard("4000000000000259", "visa", dispute="fraudulent"),
    TestCard("4000000000002685", "visa", dispute="product_not_received"),
    TestCard("4000000000001976", "visa", dispute="inquiry"),
)}

# Stripe's test PaymentMethod ids and tokens: each use makes a fresh payment method.
TEST_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242", "tok_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556", "tok_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444", "tok_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005", "tok_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002", "tok_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_visa_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_visa_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_visa_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_visa_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_createDispute": "4000000000000259", "tok_createDispute": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
    "tok_createDisputeProductNotReceived": "4000000000002685",
    "pm_card_createDisputeInquiry": "4000000000001976",
    "tok_createDisputeInquiry": "4000000000001976",
}

_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "authentication_required": "Your card was declined. This transaction requires "
                               "authentication.",
}


def decline_error(reason: str, extra: Obj | None = None) -> StripeError:
    """A 402 card_error as Stripe words it; `code` and `decline_code` follow Stripe's split."""
    code = reason if reason in ("expired_card", "incorrect_cvc", "authentication_required") \
        else "card_declined"
    decline = None if reason in ("expired_card", "incorrect_cvc") else reason
    return StripeError(402, "card_error", _MESSAGES.get(reason, "Your card was declined."),
                       code=code, decline_code=decline, extra=extra)


def card_of(pm: Obj) -> TestCard:
    return CARDS.get(pm.get("_number", ""), CARDS["4242424242424242"])


def normalise_number(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def new_card_method(sb: Sandbox, number: str, exp_month: int = 12, exp_year: int = 2034,
                    billing: Obj | None = None, clock_of: Obj | None = None) -> Obj:
    number = normalise_number(number)
    card = CARDS.get(number)
    if card is None:
        raise StripeError(402, "card_error",
                          "Your card number is incorrect. The sandbox accepts Stripe's test "
                          "card numbers only.", code="incorrect_number", param="number")
    billing = billing or {}
    pm: Obj = {
        "id": new_id("pm"), "object": "payment_method", "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {"city": None, "country": None, "line1": None, "line2": None,
                        "postal_code": None, "state": None},
            "email": billing.get("email"), "name": billing.get("name"),
            "phone": billing.get("phone"), "tax_id": None,
        },
        "card": {
            "brand": card.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None,
                       "cvc_check": "unchecked"},
            "country": "US", "display_brand": card.brand, "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
            "funding": card.funding, "generated_from": None, "last4": number[-4:],
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True}, "wallet": None,
        },
        "created": sb.now(clock_of), "customer": None, "customer_account": None,
        "livemode": False, "metadata": {}, "type": "card", "_number": number,
    }
    sb.store.put(pm)
    return pm


def require_card_only(params: Params) -> None:
    """`allowed_payment_method_types`: cards are the sandbox's only payment method type."""
    for i, kind in enumerate(get_list(params, "allowed_payment_method_types")):
        if kind != "card":
            raise invalid(f"The sandbox does not implement the payment method type {kind!r}; "
                          "it supports card only.", f"allowed_payment_method_types[{i}]",
                          code="parameter_not_implemented")


def resolve_payment_method(sb: Sandbox, pm_id: str, param: str = "payment_method",
                           clock_of: Obj | None = None) -> Obj:
    """A stored payment method, or a fresh one for a test id such as `pm_card_visa`."""
    if pm_id in TEST_METHODS:
        return new_card_method(sb, TEST_METHODS[pm_id], clock_of=clock_of)
    return sb.get("payment_method", pm_id, "PaymentMethod", param)


def attach_payment_method(sb: Sandbox, pm_id: str, customer: Obj, param: str = "customer",
                          on_session_authenticated: bool = False, announce: bool = True
                          ) -> Obj:
    pm = resolve_payment_method(sb, pm_id, "payment_method", customer)
    if pm["customer"] == customer["id"]:
        return pm
    if pm["customer"] is not None:
        raise invalid("The payment method you provided has already been attached to a "
                      "customer.", param)
    card = card_of(pm)
    if card.decline:
        raise decline_error(card.decline)
    pm["customer"] = customer["id"]
    if on_session_authenticated:
        pm["_setup"] = True
    sb.store.put(pm)
    if announce:
        sb.emit("payment_method.attached", pm)
    return pm


def detach_payment_method(sb: Sandbox, pm: Obj) -> Obj:
    customer_id = pm["customer"]
    if customer_id is None:
        raise invalid("The payment method you provided is not attached to a customer so "
                      "detachment is impossible.", "payment_method")
    cus = sb.store.get("customer", customer_id)
    if cus is not None and cus["invoice_settings"]["default_payment_method"] == pm["id"]:
        before = sb.snapshot(cus)
        cus["invoice_settings"]["default_payment_method"] = None
        sb.store.put(cus)
        sb.emit("customer.updated", cus, before)
    before_pm = sb.snapshot(pm)
    pm["customer"] = None
    sb.store.put(pm)
    sb.emit("payment_method.detached", pm, previous={"customer": before_pm["customer"]})
    return pm


@router.post("/v1/payment_methods", "PaymentMethodCreateParams",
              ("billing_details", "card.exp_month", "card.exp_year", "card.number",
              "card.token", "metadata", "type"))
def create_payment_method(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    get_enum(p, "type", ("card",), required=True)
    card = get_dict(p, "card")
    token = get_str(card, "token")
    if token is not None:
        if token not in TEST_METHODS:
            raise invalid(f"No such token: '{token}'", "card[token]", code="resource_missing")
        pm = new_card_method(sb, TEST_METHODS[token])
    else:
        number = get_str(card, "number", required=True, param="card[number]") or ""
        pm = new_card_method(
            sb, number,
            get_int(card, "exp_month", param="card[exp_month]") or 12,
            get_int(card, "exp_year", param="card[exp_year]") or 2034,
            get_dict(p, "billing_details"),
        )
    apply_metadata(pm, p)
    return pm


@router.get("/v1/payment_methods/{id}", "PaymentMethodRetrieveParams")
def retrieve_payment_method(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return resolve_payment_method(sb, id, "id")


@router.post("/v1/payment_methods/{id}", "PaymentMethodUpdateParams",
              ("billing_details.email", "billing_details.name", "billing_details.phone",
              "card.exp_month", "card.exp_year", "metadata"))
def update_payment_method(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    pm = sb.get("payment_method", id, "PaymentMethod")
    before = sb.snapshot(pm)
    billing = get_dict(req.params, "billing_details")
    for key in ("email", "name", "phone"):
        if key in billing:
            pm["billing_details"][key] = get_str(billing, key)
    card = get_dict(req.params, "card")
    for key in ("exp_month", "exp_year"):
        if key in card:
            pm["card"][key] = get_int(card, key, param=f"card[{key}]")
    apply_metadata(pm, req.params)
    sb.store.put(pm)
    sb.emit("payment_method.updated", pm, before)
    return pm


@router.post("/v1/payment_methods/{id}/attach", "PaymentMethodAttachParams", ("customer",))
def attach(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    cus_id = get_str(req.params, "customer", required=True) or ""
    return attach_payment_method(sb, id, sb.get("customer", cus_id, param="customer"))


@router.post("/v1/payment_methods/{id}/detach", "PaymentMethodDetachParams")
def detach(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return detach_payment_method(sb, sb.get("payment_method", id, "PaymentMethod"))


def _list_methods(sb: Sandbox, req: ApiRequest, customer: str | None, url: str) -> Obj:
    items = [pm for pm in sb.store.all("payment_method")
             if pm["customer"] is not None and (customer is None or pm["customer"] == customer)]
    return paginate(items, req.params, url)


@router.get("/v1/payment_methods", "PaymentMethodListParams", (*PAGE, "customer", "type"))
def list_payment_methods(sb: Sandbox, req: ApiRequest) -> Obj:
    customer = get_str(req.params, "customer")
    if customer is not None:
        sb.get("customer", customer, param="customer")
    return _list_methods(sb, req, customer, "/v1/payment_methods")


@router.get("/v1/customers/{id}/payment_methods", "CustomerPaymentMethodListParams",
              (*PAGE, "type"))
def list_customer_payment_methods(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    sb.get("customer", id)
    return _list_methods(sb, req, id, f"/v1/customers/{id}/payment_methods")


# --- setup intents -------------------------------------------------------------------------------


def new_setup_intent(sb: Sandbox, customer: Obj | None, usage: str = "off_session") -> Obj:
    si_id = new_id("seti")
    seti: Obj = {
        "id": si_id, "object": "setup_intent", "application": None,
        "automatic_payment_methods": None, "cancellation_reason": None,
        "client_secret": f"{si_id}_secret_{secrets.token_urlsafe(18)}",
        "created": sb.now(customer), "customer": customer["id"] if customer else None,
        "description": None, "flow_directions": None, "last_setup_error": None,
        "latest_attempt": None, "livemode": False, "mandate": None, "metadata": {},
        "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "single_use_mandate": None,
        "excluded_payment_method_types": None,
        "status": "requires_payment_method", "usage": usage,
    }
    sb.store.put(seti)
    sb.emit("setup_intent.created", seti)
    return seti


def confirm_setup_intent(sb: Sandbox, seti: Obj, authenticated: bool = False) -> None:
    """Validate and save the card; a 3DS card first asks the customer to authenticate."""
    pm = sb.get("payment_method", seti["payment_method"], "PaymentMethod")
    card = card_of(pm)
    if card.authentication != "none" and not authenticated:
        seti["status"] = "requires_action"
        seti["next_action"] = {"type": "redirect_to_url", "redirect_to_url": {
            "url": f"{sb.base_url}/authenticate/{seti['id']}",
            "return_url": seti.get("_return_url")}}
        sb.store.put(seti)
        sb.emit("setup_intent.requires_action", seti)
        return
    if card.decline:
        err = decline_error(card.decline)
        seti["status"] = "requires_payment_method"
        seti["last_setup_error"] = {**err.body()["error"], "payment_method": sb.snapshot(pm)}
        seti["payment_method"] = None
        sb.store.put(seti)
        sb.emit("setup_intent.setup_failed", seti)
        raise decline_error(card.decline, {"setup_intent": sb.snapshot(seti)})
    if seti["customer"] is not None:
        cus = sb.get("customer", seti["customer"])
        attach_payment_method(sb, pm["id"], cus)
    pm["_setup"] = True  # an on-session setup makes later off-session charges pass (3155)
    sb.store.put(pm)
    seti.update(status="succeeded", next_action=None, last_setup_error=None)
    sb.store.put(seti)
    sb.emit("setup_intent.succeeded", seti)


@router.post("/v1/setup_intents", "SetupIntentCreateParams",
              ("confirm", "customer", "metadata", "payment_method", "usage",
               "allowed_payment_method_types"))
def create_setup_intent(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    require_card_only(p)
    cus_id = get_str(p, "customer")
    cus = sb.get("customer", cus_id, param="customer") if cus_id else None
    seti = new_setup_intent(sb, cus, get_enum(p, "usage", ("on_session", "off_session"))
                            or "off_session")
    apply_metadata(seti, p)
    pm_id = get_str(p, "payment_method")
    if pm_id is not None:
        seti["payment_method"] = resolve_payment_method(sb, pm_id, clock_of=cus)["id"]
        seti["status"] = "requires_confirmation"
    sb.store.put(seti)
    if get_bool(p, "confirm"):
        if seti["payment_method"] is None:
            raise invalid("You must provide a payment method to confirm.", "payment_method")
        confirm_setup_intent(sb, seti)
    return seti


@router.get("/v1/setup_intents/{id}", "SetupIntentRetrieveParams")
def retrieve_setup_intent(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("setup_intent", id, "setupintent")


@router.post("/v1/setup_intents/{id}/confirm", "SetupIntentConfirmParams",
             ("payment_method", "return_url"))
def confirm(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    seti = sb.get("setup_intent", id, "setupintent")
    if seti["status"] in ("succeeded", "canceled"):
        raise invalid(f"This SetupIntent has a status of {seti['status']} and cannot be "
                      "confirmed.", code="setup_intent_unexpected_state")
    pm_id = get_str(req.params, "payment_method")
    if pm_id is not None:
        seti["payment_method"] = resolve_payment_method(sb, pm_id)["id"]
    if seti["payment_method"] is None:
        raise invalid("You must provide a payment method to confirm.", "payment_method")
    if "return_url" in req.params:  # where the 3DS page sends the customer back
        seti["_return_url"] = get_str(req.params, "return_url")
    confirm_setup_intent(sb, seti)
    return seti


@router.post("/v1/setup_intents/{id}/cancel", "SetupIntentCancelParams", ("cancellation_reason",))
def cancel(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    seti = sb.get("setup_intent", id, "setupintent")
    if seti["status"] == "succeeded":
        raise invalid("You cannot cancel this SetupIntent because it has a status of "
                      "succeeded.", code="setup_intent_unexpected_state")
    seti["status"] = "canceled"
    seti["cancellation_reason"] = get_str(req.params, "cancellation_reason")
    sb.store.put(seti)
    sb.emit("setup_intent.canceled", seti)
    return seti
