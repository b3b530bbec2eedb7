"""Trials, renewals and dunning on the sandbox's test clock, as plangate sees them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from plangate.store.models import LedgerEntry
from tests.e2e.e2e_harness import Stack

DAY = timedelta(days=1)
HOURS_2 = timedelta(hours=2)


def _consume(stack: Stack, customer_id: str, quantity: int) -> None:
    resp = stack.http.post(
        f"/v1/customers/user/{customer_id}/items/credits/consume", json={"quantity": quantity}
    )
    assert resp.status_code == 200, resp.text


def _grants(stack: Stack, customer_id: str) -> list[tuple[str, int, str]]:
    with stack.db.read() as session:
        rows = session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.customer_id == customer_id,
                LedgerEntry.item_id == "credits",
                LedgerEntry.kind.in_(("grant", "refill")),
            )
            .order_by(LedgerEntry.id)
        ).all()
        return [(r.created_at.date().isoformat(), r.delta, str(r.ownership_id)) for r in rows]


def test_trial_converts_and_renewals_refill_credits(stack: Stack) -> None:
    stack.buy("tess", "pro")
    pro = stack.products("tess")["pro"]
    assert pro["status"] == "trialing" and pro["grants_access"]
    trial_end = stack.subscription_of("tess").trial_end
    _consume(stack, "tess", 1200)
    assert stack.credits("tess") == 3800

    stack.advance(stack.now() + 14 * DAY + HOURS_2)  # past the trial's end and first invoice
    stack.settle()
    pro = stack.products("tess")["pro"]
    assert pro["status"] == "active"
    sub = stack.subscription_of("tess")
    assert sub.status == "active"
    assert int(sub.items.data[0].current_period_start) == trial_end
    # The paid period starts with a full grant; the trial's remainder expired with the trial.
    assert stack.credits("tess") == 5000

    _consume(stack, "tess", 4000)
    stack.advance(stack.now() + 31 * DAY)  # the first renewal is paid
    stack.settle()
    assert stack.products("tess")["pro"]["status"] == "active"
    assert stack.credits("tess") == 5000
    period_end = stack.products("tess")["pro"]["current_period_end"]
    assert period_end.startswith("2026-03-29")  # trial end Jan 29 + 2 months

    pro_grants = [(day, delta) for day, delta, _ in _grants(stack, "tess") if delta == 5000]
    # The trial (Jan 15), the first paid period (Jan 29), the renewal (Jan 29 + 1 month clamps
    # to Feb 28): each granted once.
    assert pro_grants == [("2026-01-15", 5000), ("2026-01-29", 5000), ("2026-02-28", 5000)]


def test_failed_renewal_keeps_access_then_cancels_to_free(stack: Stack) -> None:
    stack.buy("dora", "pro")
    stack.advance(stack.now() + 14 * DAY + HOURS_2)
    stack.settle()
    assert stack.products("dora")["pro"]["status"] == "active"

    sub = stack.subscription_of("dora")
    failing = stack.stripe.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", {"customer": stack.stripe_customer("dora")}
    )
    stack.stripe.v1.subscriptions.update(sub.id, {"default_payment_method": failing.id})
    renewal = int(sub.items.data[0].current_period_end)

    stack.advance(stack.now() + timedelta(seconds=renewal - int(stack.now().timestamp())) + HOURS_2)
    stack.settle()
    pro = stack.products("dora")["pro"]
    assert pro["status"] == "past_due"
    assert pro["grants_access"] is True  # dunning grace
    assert "export" in stack.entitlements("dora")["features"]

    stack.advance(stack.now() + 16 * DAY)  # retries 3, 5, 7 days apart, then canceled
    stack.settle()
    assert stack.subscription_of("dora").status == "canceled"
    owned = stack.products("dora")
    assert set(owned) == {"free"}
    ent = stack.entitlements("dora")
    assert ent["plans"] == ["free"] and "export" not in ent["features"]
    assert stack.credits("dora") == 100


def test_past_due_recovers_when_the_card_is_updated(stack: Stack) -> None:
    stack.buy("rita", "pro")
    stack.advance(stack.now() + 14 * DAY + HOURS_2)
    stack.settle()
    sub = stack.subscription_of("rita")
    failing = stack.stripe.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", {"customer": stack.stripe_customer("rita")}
    )
    stack.stripe.v1.subscriptions.update(sub.id, {"default_payment_method": failing.id})
    stack.advance(stack.now() + 31 * DAY)
    stack.settle()
    assert stack.products("rita")["pro"]["status"] == "past_due"

    visa = stack.stripe.v1.payment_methods.attach(
        "pm_card_visa", {"customer": stack.stripe_customer("rita")}
    )
    latest = stack.subscription_of("rita").latest_invoice
    stack.stripe.v1.invoices.pay(str(latest), {"payment_method": visa.id})
    stack.settle()
    assert stack.products("rita")["pro"]["status"] == "active"


def test_cancel_at_period_end_is_reflected_then_ends(stack: Stack) -> None:
    stack.buy("carl", "pro")
    stack.advance(stack.now() + 14 * DAY + HOURS_2)
    stack.settle()
    sub = stack.subscription_of("carl")
    stack.stripe.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    stack.settle()
    pro = stack.products("carl")["pro"]
    assert pro["cancel_at_period_end"] is True and pro["grants_access"] is True
    stack.advance(stack.now() + 31 * DAY)
    stack.settle()
    assert set(stack.products("carl")) == {"free"}
