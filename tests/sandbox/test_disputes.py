"""Disputes from Stripe's dispute test cards, through the official SDK: the events in Stripe's
order, evidence that wins or loses, close, list, and the errors; key sets checked against
Stripe's example dispute."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from test_shapes import assert_shape

from plangate.sandbox import Sandbox


def disputed_charge(client: stripe.StripeClient, pm: str = "pm_card_createDispute",
                    **extra: Any) -> tuple[stripe.PaymentIntent, stripe.Dispute]:
    pi = client.v1.payment_intents.create({"amount": 2500, "currency": "usd",
                                           "payment_method": pm, "confirm": True, **extra})
    assert pi.status == "succeeded"
    disputes = client.v1.disputes.list({"payment_intent": pi.id})
    assert len(disputes.data) == 1
    return pi, disputes.data[0]


def event_types(client: stripe.StripeClient, object_id: str) -> list[str]:
    events = client.v1.events.list({"limit": 100})
    objects = [(e.type, e.data.object.to_dict()) for e in reversed(events.data)]
    return [kind for kind, obj in objects
            if object_id in (obj.get("id"), obj.get("payment_intent"))]


def test_the_dispute_card_is_disputed_after_it_succeeds(
        client: stripe.StripeClient, fixtures: dict[str, Any]) -> None:
    pi, dispute = disputed_charge(client)
    assert dispute.status == "needs_response" and dispute.reason == "fraudulent"
    assert dispute.amount == 2500 and dispute.charge == pi.latest_charge
    assert dispute.is_charge_refundable is False
    assert [bt.amount for bt in dispute.balance_transactions] == [-2500]
    assert dispute.balance_transactions[0].fee == 1500
    assert dispute.evidence_details.has_evidence is False
    assert_shape(dispute.to_dict(), "dispute", stripe.Dispute, fixtures)
    assert client.v1.charges.retrieve(str(pi.latest_charge)).disputed is True
    assert event_types(client, pi.id) == [
        "payment_intent.created", "charge.succeeded", "payment_intent.succeeded",
        "charge.dispute.created", "charge.dispute.funds_withdrawn"]
    with pytest.raises(stripe.InvalidRequestError) as refund:
        client.v1.refunds.create({"payment_intent": pi.id})
    assert refund.value.code == "charge_disputed"


def test_winning_evidence_wins_and_reinstates_the_funds(client: stripe.StripeClient) -> None:
    pi, dispute = disputed_charge(client)
    staged = client.v1.disputes.update(dispute.id, {
        "evidence": {"customer_name": "Ada"}, "submit": False, "metadata": {"case": "7"}})
    assert staged.status == "needs_response" and staged.evidence.customer_name == "Ada"
    assert staged.evidence_details.has_evidence is True
    assert staged.evidence_details.submission_count == 0
    assert staged.metadata.to_dict() == {"case": "7"}
    submitted = client.v1.disputes.update(
        dispute.id, {"evidence": {"uncategorized_text": "winning_evidence"}})
    assert submitted.status == "under_review"
    assert submitted.evidence_details.submission_count == 1
    won = client.v1.disputes.retrieve(dispute.id)
    assert won.status == "won" and [bt.amount for bt in won.balance_transactions] == [
        -2500, 2500]
    assert event_types(client, pi.id)[-4:] == [
        "charge.dispute.updated", "charge.dispute.updated",
        "charge.dispute.funds_reinstated", "charge.dispute.closed"]
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.disputes.update(dispute.id, {"evidence": {"customer_name": "Bob"}})
    assert again.value.http_status == 400 and again.value.code == "charge_dispute_closed"


def test_losing_evidence_loses_and_close_accepts(client: stripe.StripeClient) -> None:
    pi, dispute = disputed_charge(client, "pm_card_createDisputeProductNotReceived")
    assert dispute.reason == "product_not_received"
    client.v1.disputes.update(dispute.id, {"evidence": {"uncategorized_text": "losing_evidence"}})
    lost = client.v1.disputes.retrieve(dispute.id)
    assert lost.status == "lost" and len(lost.balance_transactions) == 1
    assert event_types(client, pi.id)[-1] == "charge.dispute.closed"

    _, other = disputed_charge(client)
    closed = client.v1.disputes.close(other.id)
    assert closed.status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(other.id)


def test_an_inquiry_withdraws_nothing_and_closes_as_a_warning(
        client: stripe.StripeClient) -> None:
    pi, inquiry = disputed_charge(client, "pm_card_createDisputeInquiry")
    assert inquiry.status == "warning_needs_response" and inquiry.balance_transactions == []
    assert inquiry.is_charge_refundable is True
    assert "charge.dispute.funds_withdrawn" not in event_types(client, pi.id)
    client.v1.disputes.update(inquiry.id, {"evidence": {
        "uncategorized_text": "winning_evidence"}})
    assert client.v1.disputes.retrieve(inquiry.id).status == "warning_closed"


def test_manual_capture_is_disputed_on_capture_and_lists_filter(
        client: stripe.StripeClient) -> None:
    held = client.v1.payment_intents.create({
        "amount": 900, "currency": "usd", "payment_method": "pm_card_createDispute",
        "confirm": True, "capture_method": "manual"})
    assert client.v1.disputes.list({"payment_intent": held.id}).data == []
    client.v1.payment_intents.capture(held.id)
    dispute = client.v1.disputes.list({"charge": str(held.latest_charge)}).data[0]
    assert dispute.amount == 900
    plain = client.v1.payment_intents.create({"amount": 900, "currency": "usd",
                                              "payment_method": "pm_card_visa",
                                              "confirm": True})
    assert client.v1.disputes.list({"payment_intent": plain.id}).data == []
    page = client.v1.disputes.list({"limit": 1, "include": ["total_count"]})  # type: ignore[typeddict-unknown-key]
    assert page["total_count"] == 1 and page.data[0].id == dispute.id


def test_errors_in_stripes_shape(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.disputes.retrieve("dp_missing")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    _, dispute = disputed_charge(client)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.disputes.update(dispute.id, {"evidence": {"verdict": "x"}})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError) as files:
        client.v1.disputes.update(dispute.id, {"evidence": {"receipt": "file_123"}})
    assert files.value.code == "parameter_not_implemented"
    assert files.value.param == "evidence[receipt]"
    with pytest.raises(stripe.InvalidRequestError) as long:
        client.v1.disputes.update(dispute.id, {"evidence": {
            "uncategorized_text": "x" * 150_001}})
    assert long.value.param == "evidence"
    assert client.v1.disputes.retrieve(dispute.id).status == "needs_response"
