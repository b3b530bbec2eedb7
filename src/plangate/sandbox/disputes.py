"""Disputes: Stripe's dispute test cards, evidence, and how a dispute ends.

A successful charge with a dispute test card (`TestCard.dispute`) is disputed right after the
request that made it, as Stripe does a moment later: `charge.dispute.created`, then for a
chargeback `charge.dispute.funds_withdrawn` (the amount and Stripe's dispute fee leave the
balance); the charge says `disputed: true`. An inquiry withdraws nothing.

Submitting evidence (`POST /v1/disputes/{id}`, `submit` true by default) puts the dispute
under review; Stripe's test strings in `evidence[uncategorized_text]` decide it right after
that request: `winning_evidence` wins it (funds reinstated), `losing_evidence` loses it;
other evidence leaves it under review. `close` accepts the dispute as lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from . import scheduler
from .router import PAGE, ApiRequest, Router
from .wire import (
    Obj,
    StripeError,
    apply_metadata,
    get_bool,
    get_dict,
    get_str,
    invalid,
    match_created,
    new_id,
    paginate,
)

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()

# The dispute each dispute test card gets: (reason, inquiry).
KINDS: dict[str, tuple[str, bool]] = {
    "fraudulent": ("fraudulent", False),
    "product_not_received": ("product_not_received", False),
    "inquiry": ("fraudulent", True),
}
# The evidence fields that take text; the file ones need the Files API, which the sandbox
# does not serve (refused as not implemented).
TEXT_EVIDENCE = (
    "access_activity_log", "billing_address", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_email_address", "customer_name",
    "customer_purchase_ip", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "refund_policy_disclosure", "refund_refusal_explanation",
    "service_date", "shipping_address", "shipping_carrier", "shipping_date",
    "shipping_tracking_number", "uncategorized_text",
)
FILE_EVIDENCE = (
    "cancellation_policy", "customer_communication", "customer_signature",
    "duplicate_charge_documentation", "receipt", "refund_policy", "service_documentation",
    "shipping_documentation", "uncategorized_file",
)
EVIDENCE_LIMIT = 150_000  # characters over all fields, as at Stripe
DISPUTE_FEE = 1500  # Stripe's dispute fee, in the charge's minor unit
RESPONSE_DAYS = 7
_CLOSED = ("won", "lost", "warning_closed")
_DECISIONS = {"winning_evidence": "won", "losing_evidence": "lost"}


def mark_if_disputed(sb: Sandbox, charge: Obj, dispute_kind: str | None) -> None:
    """Called when a charge is captured: a dispute test card's charge is disputed next."""
    if dispute_kind is not None:
        charge["_dispute_pending"] = dispute_kind
        sb.store.put(charge)


def refuse_refund_if_charged_back(charge: Obj) -> None:
    if charge.get("disputed") and not charge.get("_refundable"):
        raise invalid(f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                      "charge", code="charge_disputed")


def _balance_transaction(sb: Sandbox, dispute: Obj, amount: int, fee: int,
                         description: str) -> Obj:
    now = sb.now(dispute)
    txn: Obj = {
        "id": new_id("txn"), "object": "balance_transaction", "amount": amount,
        "available_on": now, "balance_type": "payments", "created": now,
        "currency": dispute["currency"], "description": description, "exchange_rate": None,
        "fee": fee,
        "fee_details": [{"amount": fee, "application": None, "currency": dispute["currency"],
                         "description": "Dispute fee", "type": "stripe_fee"}] if fee else [],
        "net": amount - fee, "reporting_category": "dispute",
        "source": dispute["id"], "status": "available", "type": "adjustment",
        "_clock": sb.clock_id_of(dispute),
    }
    sb.store.put(txn)  # in the account's balance too (balance.py)
    return txn


def _open(sb: Sandbox, charge: Obj, _at: int) -> None:
    reason, inquiry = KINDS[charge.pop("_dispute_pending")]
    amount = int(charge["amount_captured"]) - int(charge["amount_refunded"])
    created = sb.now(charge)
    card = charge["payment_method_details"]["card"]
    dispute: Obj = {
        "id": new_id("dp"), "object": "dispute", "amount": amount,
        "balance_transactions": [], "charge": charge["id"], "created": created,
        "currency": charge["currency"], "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(TEXT_EVIDENCE + FILE_EVIDENCE), "enhanced_evidence": {}},
        "evidence_details": {"due_by": created + RESPONSE_DAYS * 86400,
                             "enhanced_eligibility": {}, "has_evidence": False,
                             "past_due": False, "submission_count": 0},
        "is_charge_refundable": inquiry, "livemode": False, "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {"card": {
            "brand": card["brand"], "case_type": "inquiry" if inquiry else "chargeback",
            "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
            "network": card["network"]}, "type": "card"},
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
        "_customer": charge["customer"],
    }
    sb.store.put(dispute)
    charge["disputed"] = True
    charge["_refundable"] = inquiry
    sb.store.put(charge)
    sb.emit("charge.dispute.created", dispute)
    if not inquiry:
        dispute["balance_transactions"].append(_balance_transaction(
            sb, dispute, -amount, DISPUTE_FEE, f"Chargeback withdrawal for {charge['id']}"))
        sb.store.put(dispute)
        sb.emit("charge.dispute.funds_withdrawn", dispute)


def _decide(sb: Sandbox, dispute: Obj, _at: int) -> None:
    outcome = dispute.pop("_decision")
    inquiry = dispute["payment_method_details"]["card"]["case_type"] == "inquiry"
    if outcome == "won" and inquiry:
        outcome = "warning_closed"
    dispute["status"] = outcome
    if outcome == "won" and dispute["balance_transactions"]:
        dispute["balance_transactions"].append(_balance_transaction(
            sb, dispute, dispute["amount"], 0, f"Chargeback reversal for {dispute['charge']}"))
        sb.store.put(dispute)
        sb.emit("charge.dispute.funds_reinstated", dispute)
    sb.store.put(dispute)
    sb.emit("charge.dispute.closed", dispute)


@scheduler.source("charge", scheduler.customer_clock, scheduler.customer_of)
def dispute_open_work(sb: Sandbox, charge: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    if "_dispute_pending" in charge:
        yield int(charge["created"]), 6, partial(_open, sb, charge)


@scheduler.source("dispute", scheduler.customer_clock, scheduler.customer_of)
def dispute_work(sb: Sandbox, dispute: Obj) -> Iterator[tuple[int, int, scheduler.Action]]:
    if "_decision" in dispute:
        yield int(dispute["_decide_at"]), 7, partial(_decide, sb, dispute)


# --- the API --------------------------------------------------------------------------------------


def _open_dispute(sb: Sandbox, id_: str) -> Obj:
    dispute = sb.get("dispute", id_)
    if dispute["status"] in _CLOSED:
        raise StripeError(400, "invalid_request_error",
                          f"This dispute is already closed ({dispute['status']}); it cannot "
                          "be changed.", code="charge_dispute_closed")
    if dispute["status"] in ("under_review", "warning_under_review") or "_decision" in dispute:
        raise invalid("This dispute's evidence was already submitted; it is under review.",
                      code="charge_dispute_under_review")
    return dispute


@router.get("/v1/disputes/{id}", "DisputeRetrieveParams")
def retrieve_dispute(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    return sb.get("dispute", id)


@router.post("/v1/disputes/{id}", "DisputeUpdateParams",
             ("metadata", "submit", *(f"evidence.{k}" for k in TEXT_EVIDENCE)))
def update_dispute(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    dispute = _open_dispute(sb, id)
    p = req.params
    evidence = get_dict(p, "evidence")
    staged = dict(dispute["evidence"])
    for key in evidence:
        staged[key] = get_str(evidence, key, param=f"evidence[{key}]")
    if sum(len(v) for v in staged.values() if isinstance(v, str)) > EVIDENCE_LIMIT:
        raise invalid(f"The evidence is longer than {EVIDENCE_LIMIT} characters in all.",
                      "evidence")
    before = sb.snapshot(dispute)
    dispute["evidence"] = staged
    details = dispute["evidence_details"]
    details["has_evidence"] = any(isinstance(v, str) for v in staged.values())
    apply_metadata(dispute, p)
    if get_bool(p, "submit") is not False and (evidence or details["has_evidence"]):
        inquiry = dispute["payment_method_details"]["card"]["case_type"] == "inquiry"
        dispute["status"] = "warning_under_review" if inquiry else "under_review"
        details["submission_count"] += 1
        decision = _DECISIONS.get((staged.get("uncategorized_text") or "").strip())
        if decision is not None:
            dispute["_decision"] = decision
            dispute["_decide_at"] = sb.now(dispute)
    sb.store.put(dispute)
    sb.emit("charge.dispute.updated", dispute, before)
    return dispute


@router.post("/v1/disputes/{id}/close", "DisputeCloseParams")
def close_dispute(sb: Sandbox, req: ApiRequest, id: str) -> Obj:
    dispute = _open_dispute(sb, id)
    inquiry = dispute["payment_method_details"]["card"]["case_type"] == "inquiry"
    dispute["status"] = "warning_closed" if inquiry else "lost"
    sb.store.put(dispute)
    sb.emit("charge.dispute.closed", dispute)
    return dispute


@router.get("/v1/disputes", "DisputeListParams", (*PAGE, "charge", "created", "payment_intent"))
def list_disputes(sb: Sandbox, req: ApiRequest) -> Obj:
    ch = get_str(req.params, "charge")
    pi = get_str(req.params, "payment_intent")
    items = [x for x in sb.store.all("dispute")
             if (ch is None or x["charge"] == ch) and (pi is None or x["payment_intent"] == pi)
             and match_created(x, req.params)]
    return paginate(items, req.params, "/v1/disputes")
