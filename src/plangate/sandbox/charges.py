"""Payment intents, charges and refunds: where test cards succeed, decline or ask for 3DS."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from .balance import record_charge, record_refund
from .capture import CAPTURE_METHODS, hold, release
from .disputes import mark_if_disputed, refuse_refund_if_charged_back
from .expansion import INCLUDABLE
from .payments import card_of, decline_error, resolve_payment_method
from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    StripeError,
    apply_metadata,
    get_bool,
    get_enum,
    get_int,
    get_str,
    invalid,
    match_created,
    new_id,
    paginate,
    strip_private,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()


def new_payment_intent(sb: Sandbox, amount: int, currency: str, customer: Obj | None,
                       description: str | None = None) -> Obj:
    pi_id = new_id("pi")
    pi: Obj = {
        "id": pi_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None,
        "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{secrets.token_urlsafe(18)}",
        "confirmation_method": "automatic", "created": sb.now(customer),
        "currency": currency, "customer": customer["id"] if customer else None,
        "customer_account": None, "description": description,
        "excluded_payment_method_types": None, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "managed_payments": None, "metadata": {},
        "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None,
                                            "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": None,
        "review": None, "setup_future_usage": None, "shipping": None, "source": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None, "transfer_group": None,
    }
    sb.store.put(pi)
    sb.emit("payment_intent.created", pi)
    return pi


def _new_charge(sb: Sandbox, pi: Obj, pm: Obj, failure: str | None) -> Obj:
    ch_id = new_id("ch")
    card = pm["card"]
    failed_err = decline_error(failure).body()["error"] if failure else None
    charge: Obj = {
        "id": ch_id, "object": "charge", "amount": pi["amount"],
        "amount_captured": 0 if failure else pi["amount"], "amount_refunded": 0,
        "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": None if failure else new_id("txn"),
        "billing_details": dict(pm["billing_details"]),
        "calculated_statement_descriptor": "PLANGATE SANDBOX", "captured": not failure,
        "created": sb.now(pi), "currency": pi["currency"], "customer": pi["customer"],
        "description": pi["description"], "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failed_err["code"] if failed_err else None,
        "failure_message": failed_err["message"] if failed_err else None,
        "fraud_details": {}, "livemode": False, "metadata": dict(pi["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": "declined_by_network" if failure else "approved_by_network",
            "reason": failure, "risk_level": "normal", "risk_score": 20,
            "seller_message": "The bank did not return any further details with this "
            "decline." if failure else "Payment complete.",
            "type": "issuer_declined" if failure else "authorized",
        },
        "paid": not failure, "payment_intent": pi["id"], "payment_method": pm["id"],
        "payment_method_details": {"card": {
            "amount_authorized": None if failure else pi["amount"], "authorization_code": None,
            "brand": card["brand"], "checks": dict(card["checks"]), "country": "US",
            "exp_month": card["exp_month"], "exp_year": card["exp_year"],
            "extended_authorization": None, "fingerprint": card["fingerprint"],
            "funding": card["funding"], "incremental_authorization": None,
            "installments": None, "last4": card["last4"], "mandate": None,
            "multicapture": None, "network": card["brand"], "network_token": {"used": False},
            "network_transaction_id": None, "overcapture": None, "regulated_status": None,
            "three_d_secure": None, "wallet": None,
        }, "type": "card"},
        "receipt_email": None, "receipt_number": None,
        "receipt_url": f"{sb.base_url}/receipts/{ch_id}", "refunded": False,
        "review": None,
        "shipping": None, "source": None, "source_transfer": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "failed" if failure else "succeeded", "transfer_data": None,
        "transfer_group": None,
    }
    sb.store.put(charge)
    return charge


def confirm_payment_intent(sb: Sandbox, pi: Obj, *, off_session: bool,
                           authenticated: bool = False) -> StripeError | None:
    """Try the payment. Returns the card error on a decline (callers decide whether it
    becomes a 402), or None when it succeeded or now waits for 3DS (`requires_action`)."""
    if pi["payment_method"] is None:
        raise invalid("You cannot confirm this PaymentIntent because it's missing a payment "
                      "method.", "payment_method", code="payment_intent_unexpected_state")
    pm = sb.get("payment_method", pi["payment_method"], "PaymentMethod")
    card = card_of(pm)
    failure = card.decline or card.charge_decline
    if failure is None and card.authentication != "none" and not authenticated:
        needs_auth = card.authentication == "always" or not pm.get("_setup")
        if needs_auth and off_session:
            failure = "authentication_required"
        elif needs_auth:
            pi["status"] = "requires_action"
            pi["next_action"] = {"type": "redirect_to_url", "redirect_to_url": {
                "url": f"{sb.base_url}/authenticate/{pi['id']}",
                "return_url": pi.get("_return_url")}}
            sb.store.put(pi)
            sb.emit("payment_intent.requires_action", pi)
            return None
    charge = _new_charge(sb, pi, pm, failure)
    pi["latest_charge"] = charge["id"]
    pi["next_action"] = None
    if failure:
        err = decline_error(failure)
        pi["status"] = "requires_payment_method"
        pi["last_payment_error"] = {**err.body()["error"], "charge": charge["id"],
                                    "payment_method": sb.snapshot(pm)}
        sb.store.put(pi)
        sb.emit("charge.failed", charge)
        sb.emit("payment_intent.payment_failed", pi)
        return decline_error(failure, {"charge": charge["id"],
                                       "payment_intent": sb.snapshot(pi),
                                       "payment_method": sb.snapshot(pm)})
    if authenticated or card.authentication != "none":
        pm["_setup"] = True
        sb.store.put(pm)
    if pi["capture_method"] == "manual":
        hold(sb, pi, charge)
        return None
    pi["status"] = "succeeded"
    pi["amount_received"] = pi["amount"]
    pi["last_payment_error"] = None
    sb.store.put(pi)
    record_charge(sb, charge)
    mark_if_disputed(sb, charge, card.dispute)
    sb.emit("charge.succeeded", charge)
    sb.emit("payment_intent.succeeded", pi)
    return None


# --- payment intents API -------------------------------------------------------------------------


def _confirm_from_api(sb: Sandbox, pi: Obj, off_session: bool) -> Obj:
    err = confirm_payment_intent(sb, pi, off_session=off_session)
    if err is not None:
        raise err
    return pi


@router.post("/v1/payment_intents", "PaymentIntentCreateParams",
              ("amount", "capture_method", "confirm", "currency", "customer", "description",
               "metadata", "off_session", "payment_method", "receipt_email", "return_url",
               "setup_future_usage"))
def create_payment_intent(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    amount = get_int(p, "amount", required=True, minimum=1) or 0
    if amount < 50:
        raise invalid("Amount must be at least 50 cents", "amount", code="amount_too_small")
    currency = (get_str(p, "currency", required=True) or "").lower()
    cus_id = get_str(p, "customer")
    cus = sb.get("customer", cus_id, param="customer") if cus_id else None
    pi = new_payment_intent(sb, amount, currency, cus, get_str(p, "description"))
    apply_metadata(pi, p)
    pi["receipt_email"] = get_str(p, "receipt_email")
    pi["setup_future_usage"] = get_enum(p, "setup_future_usage", ("on_session", "off_session"))
    pi["_return_url"] = get_str(p, "return_url")
    pi["capture_method"] = get_enum(p, "capture_method", CAPTURE_METHODS) or "automatic"
    pm_id = get_str(p, "payment_method")
    if pm_id is not None:
        pi["payment_method"] = resolve_payment_method(sb, pm_id, clock_of=cus)["id"]
        pi["status"] = "requires_confirmation"
    sb.store.put(pi)
    if get_bool(p, "confirm"):
        return _confirm_from_api(sb, pi, bool(get_bool(p, "off_session")))
    return pi


@router.get("/v1/payment_intents/{id}", "PaymentIntentRetrieveParams")
def retrieve_payment_intent(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("payment_intent", id, "payment_intent")


@router.post("/v1/payment_intents/{id}", "PaymentIntentUpdateParams",
              ("amount", "description", "metadata", "payment_method", "receipt_email"))
def update_payment_intent(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    pi = sb.get("payment_intent", id, "payment_intent")
    if pi["status"] in ("succeeded", "canceled"):
        raise invalid(f"This PaymentIntent's status is {pi['status']}; it cannot be updated.",
                      code="payment_intent_unexpected_state")
    p = req.params
    amount = get_int(p, "amount", minimum=50)
    if amount is not None:
        pi["amount"] = amount
    for key in ("description", "receipt_email"):
        if key in p:
            pi[key] = get_str(p, key)
    pm_id = get_str(p, "payment_method")
    if pm_id is not None:
        pi["payment_method"] = resolve_payment_method(sb, pm_id)["id"]
        pi["status"] = "requires_confirmation"
    apply_metadata(pi, p)
    sb.store.put(pi)
    return pi


@router.post("/v1/payment_intents/{id}/confirm", "PaymentIntentConfirmParams",
              ("off_session", "payment_method", "return_url"))
def confirm_api(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    pi = sb.get("payment_intent", id, "payment_intent")
    if pi["status"] not in ("requires_payment_method", "requires_confirmation",
                            "requires_action"):
        raise invalid(f"This PaymentIntent's status is {pi['status']}; it cannot be "
                      "confirmed.", code="payment_intent_unexpected_state")
    pm_id = get_str(req.params, "payment_method")
    if pm_id is not None:
        pi["payment_method"] = resolve_payment_method(sb, pm_id, clock_of=pi)["id"]
    if "return_url" in req.params:
        pi["_return_url"] = get_str(req.params, "return_url")
    return _confirm_from_api(sb, pi, bool(get_bool(req.params, "off_session")))


@router.post("/v1/payment_intents/{id}/cancel", "PaymentIntentCancelParams",
              ("cancellation_reason",))
def cancel_payment_intent(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    pi = sb.get("payment_intent", id, "payment_intent")
    if pi["status"] in ("succeeded", "canceled"):
        raise invalid(f"You cannot cancel this PaymentIntent because it has a status of "
                      f"{pi['status']}.", code="payment_intent_unexpected_state")
    release(sb, pi)
    pi["status"] = "canceled"
    pi["canceled_at"] = sb.now(pi)
    pi["cancellation_reason"] = (get_str(req.params, "cancellation_reason")
                                 or "requested_by_customer")
    sb.store.put(pi)
    sb.emit("payment_intent.canceled", pi)
    return pi


@router.get("/v1/payment_intents", "PaymentIntentListParams", (*PAGE, "customer", "created"))
def list_payment_intents(sb: Sandbox, req: ApiRequest) -> Obj:
    cus = get_str(req.params, "customer")
    items = [x for x in sb.store.all("payment_intent")
             if (cus is None or x["customer"] == cus) and match_created(x, req.params)]
    return paginate(items, req.params, "/v1/payment_intents")


# --- charges and refunds -------------------------------------------------------------------------


@router.get("/v1/charges/{id}", "ChargeRetrieveParams")
def retrieve_charge(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("charge", id)


@router.get("/v1/charges", "ChargeListParams", (*PAGE, "customer", "payment_intent"))
def list_charges(sb: Sandbox, req: ApiRequest) -> Obj:
    cus = get_str(req.params, "customer")
    pi = get_str(req.params, "payment_intent")
    items = [x for x in sb.store.all("charge")
             if (cus is None or x["customer"] == cus) and (pi is None or x["payment_intent"] == pi)]
    return paginate(items, req.params, "/v1/charges")


def refund_charge(sb: Sandbox, charge: Obj, amount: int | None, reason: str | None,
                  metadata_params: dict[str, object] | None = None) -> Obj:
    if charge["status"] != "succeeded":
        raise invalid(f"Charge {charge['id']} has not been paid and cannot be refunded.",
                      "charge", code="charge_not_refundable")
    refuse_refund_if_charged_back(charge)
    left = charge["amount"] - charge["amount_refunded"]
    if left <= 0:
        raise invalid(f"Charge {charge['id']} has already been refunded.", "charge",
                      code="charge_already_refunded")
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise invalid(f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                      f"({left})", "amount", code="amount_too_large")
    refund: Obj = {
        "id": new_id("re"), "object": "refund", "amount": amount,
        "balance_transaction": new_id("txn"), "charge": charge["id"],
        "created": sb.now(charge), "currency": charge["currency"],
        "customer": charge["customer"], "customer_account": None,
        "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                         "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": {}, "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"], "reason": reason,
        "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
        "transfer_reversal": None,
    }
    apply_metadata(refund, metadata_params or {})
    sb.store.put(refund)
    record_refund(sb, refund)
    before = sb.snapshot(charge)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    sb.store.put(charge)
    sb.emit("charge.refunded", charge, before)
    sb.emit("refund.created", refund)
    return refund


@router.post("/v1/refunds", "RefundCreateParams",
              ("amount", "charge", "metadata", "payment_intent", "reason"))
def create_refund(sb: Sandbox, req: ApiRequest) -> Obj:
    p = req.params
    charge_id = get_str(p, "charge")
    pi_id = get_str(p, "payment_intent")
    if charge_id is None and pi_id is not None:
        pi = sb.get("payment_intent", pi_id, "payment_intent", "payment_intent")
        charge_id = pi["latest_charge"]
        if charge_id is None or pi["status"] != "succeeded":
            raise invalid("This PaymentIntent does not have a successful charge to refund.",
                          "payment_intent", code="charge_not_refundable")
    if charge_id is None:
        raise invalid("One of the following params should be provided for this request: "
                      "payment_intent or charge.", code="parameter_missing")
    charge = sb.get("charge", charge_id, param="charge")
    reason = get_enum(p, "reason", ("duplicate", "fraudulent", "requested_by_customer"))
    return refund_charge(sb, charge, get_int(p, "amount", minimum=1), reason, p)


@router.get("/v1/refunds/{id}", "RefundRetrieveParams")
def retrieve_refund(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("refund", id)


@router.get("/v1/refunds", "RefundListParams", (*PAGE, "charge", "payment_intent"))
def list_refunds(sb: Sandbox, req: ApiRequest) -> Obj:
    ch = get_str(req.params, "charge")
    pi = get_str(req.params, "payment_intent")
    items = [x for x in sb.store.all("refund")
             if (ch is None or x["charge"] == ch) and (pi is None or x["payment_intent"] == pi)]
    return paginate(items, req.params, "/v1/refunds")


def _charge_refunds(sb: Sandbox, charge: Obj) -> Obj:
    """`charge.refunds`, there only when expanded (since API version 2022-11-15): the first
    page, the 10 newest."""
    refunds = [strip_private(x) for x in sb.store.all("refund") if x["charge"] == charge["id"]]
    return paginate(refunds, {}, f"/v1/charges/{charge['id']}/refunds")


INCLUDABLE[("charge", "refunds")] = _charge_refunds
